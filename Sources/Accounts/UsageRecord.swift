import Foundation
import GRDB

/// One served request, as billing and capacity planning see it: a row of the `usage` table.
public struct UsageRecord: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "usage"

  public var id: Int64?
  public var requestID: String
  /// Seconds since the Unix epoch when the request finished (its charge counts from then).
  public var createdAt: Double
  /// When it arrived (rate limits count requests by arrival).
  public var startedAt: Double
  public var endpoint: String
  public var model: String
  /// The client's `user` field.
  public var user: String?
  /// The principal the request was metered as (`key_…`, `key-…`, `anon-…`); never a secret.
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
  /// Tokens charged against the allowance (prompt + completion), split into the part taken from
  /// the daily allowance and the part taken from prepaid tokens.
  public var chargedTokens: Int
  public var dailyTokens: Int
  public var packTokens: Int
  public var costInput: Double
  public var costOutput: Double
  /// This request's share of the machine's running cost (`--machine-cost-per-hour`).
  public var costMachine: Double
  /// Run as a batch line (priced with the batch discount).
  public var batch: Bool
  /// Answered from the result cache.
  public var cacheHit: Bool

  public init(
    requestID: String, createdAt: Double, startedAt: Double? = nil, endpoint: String, model: String,
    user: String? = nil, apiKeyID: String? = nil, promptTokens: Int, completionTokens: Int, cachedTokens: Int = 0,
    queueSeconds: Double = 0, ttftSeconds: Double = 0, e2eSeconds: Double = 0, decodeTokensPerSecond: Double = 0,
    status: Int, finishReason: String? = nil, cost: Cost = .zero, batch: Bool = false, cacheHit: Bool = false
  ) {
    self.id = nil
    self.requestID = requestID
    self.createdAt = createdAt
    self.startedAt = startedAt ?? createdAt - e2eSeconds
    self.endpoint = endpoint
    self.model = model
    self.user = user
    self.apiKeyID = apiKeyID
    self.promptTokens = promptTokens
    self.completionTokens = completionTokens
    self.cachedTokens = cachedTokens
    self.queueSeconds = queueSeconds
    self.ttftSeconds = ttftSeconds
    self.e2eSeconds = e2eSeconds
    self.decodeTokensPerSecond = decodeTokensPerSecond
    self.status = status
    self.finishReason = finishReason
    self.chargedTokens = promptTokens + completionTokens
    self.dailyTokens = 0
    self.packTokens = 0
    self.costInput = cost.input
    self.costOutput = cost.output
    self.costMachine = cost.machine
    self.batch = batch
    self.cacheHit = cacheHit
  }

  public var cost: Cost { Cost(input: costInput, output: costOutput, machine: costMachine) }

  enum CodingKeys: String, CodingKey {
    case id
    case requestID = "request_id"
    case createdAt = "created_at"
    case startedAt = "started_at"
    case endpoint, model, user, status, batch
    case apiKeyID = "api_key_id"
    case promptTokens = "prompt_tokens"
    case completionTokens = "completion_tokens"
    case cachedTokens = "cached_tokens"
    case queueSeconds = "queue_s"
    case ttftSeconds = "ttft_s"
    case e2eSeconds = "e2e_s"
    case decodeTokensPerSecond = "decode_tokens_per_second"
    case finishReason = "finish_reason"
    case chargedTokens = "charged_tokens"
    case dailyTokens = "daily_tokens"
    case packTokens = "pack_tokens"
    case costInput = "cost_input"
    case costOutput = "cost_output"
    case costMachine = "cost_machine"
    case cacheHit = "cache_hit"
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
