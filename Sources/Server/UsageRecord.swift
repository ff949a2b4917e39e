import Foundation
import GRDB

/// One served HTTP request, as billing and capacity planning see it.
public struct UsageRecord: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "usage"

  public var id: Int64?
  public var requestID: String
  /// Seconds since the Unix epoch when the request finished.
  public var createdAt: Double
  public var endpoint: String
  public var model: String
  /// The client's `user` field.
  public var user: String?
  /// Which API key authorised the request (a digest, never the key).
  public var apiKeyID: String?
  public var promptTokens: Int
  public var completionTokens: Int
  public var cachedTokens: Int
  public var queueSeconds: Double
  public var ttftSeconds: Double
  public var e2eSeconds: Double
  public var decodeTokensPerSecond: Double
  /// HTTP status sent (499 when the client went away first).
  public var status: Int
  public var finishReason: String?

  enum CodingKeys: String, CodingKey {
    case id
    case requestID = "request_id"
    case createdAt = "created_at"
    case endpoint, model, user, status
    case apiKeyID = "api_key_id"
    case promptTokens = "prompt_tokens"
    case completionTokens = "completion_tokens"
    case cachedTokens = "cached_tokens"
    case queueSeconds = "queue_s"
    case ttftSeconds = "ttft_s"
    case e2eSeconds = "e2e_s"
    case decodeTokensPerSecond = "decode_tokens_per_second"
    case finishReason = "finish_reason"
  }

  public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

  /// Longest stored strings, in Unicode scalars: `user` as OpenAI caps it; the rest well above
  /// what the server ever writes, so only a bug could reach them.
  public static let maxUserLength = 256
  public static let maxFieldLength = 256

  /// The record with every string cut to its cap, so no request can grow the database by more
  /// than a row's worth.
  public func capped() -> UsageRecord {
    func cut(_ s: String, _ n: Int) -> String {
      s.unicodeScalars.count <= n ? s : String(String.UnicodeScalarView(s.unicodeScalars.prefix(n)))
    }
    var r = self
    r.requestID = cut(requestID, Self.maxFieldLength)
    r.endpoint = cut(endpoint, Self.maxFieldLength)
    r.model = cut(model, Self.maxFieldLength)
    r.user = user.map { cut($0, Self.maxUserLength) }
    r.apiKeyID = apiKeyID.map { cut($0, Self.maxFieldLength) }
    r.finishReason = finishReason.map { cut($0, Self.maxFieldLength) }
    return r
  }
}
