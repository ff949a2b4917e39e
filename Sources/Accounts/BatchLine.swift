import Foundation
import GRDB

/// One request of a batch: its input and, once finished, its outcome. A line counts as done only
/// when `finishedAt` is set, which happens in the transaction that also records its usage.
public struct BatchLine: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "batch_lines"

  public var batchID: String
  /// 0-based position in the input file (the output keeps this order).
  public var line: Int
  public var customID: String
  /// The request body as JSON text.
  public var body: String
  /// HTTP status of the response (200, or the error's status); nil until finished.
  public var statusCode: Int?
  /// The response body as JSON text (success or OpenAI error object).
  public var response: String?
  /// For lines that produced no response: `{"code","message"}` as JSON text.
  public var error: String?
  public var requestID: String?
  public var finishedAt: Double?

  public init(batchID: String, line: Int, customID: String, body: String) {
    self.batchID = batchID
    self.line = line
    self.customID = customID
    self.body = body
  }

  enum CodingKeys: String, CodingKey {
    case line, body, response, error
    case batchID = "batch_id"
    case customID = "custom_id"
    case statusCode = "status_code"
    case requestID = "request_id"
    case finishedAt = "finished_at"
  }

  /// Finished with a 200 response.
  public var succeeded: Bool { statusCode == 200 && error == nil }
}

/// What a finished line produced.
public struct BatchLineOutcome: Sendable, Equatable {
  public var statusCode: Int?
  public var response: String?
  public var error: String?
  public var requestID: String

  public init(statusCode: Int?, response: String?, error: String?, requestID: String) {
    self.statusCode = statusCode
    self.response = response
    self.error = error
    self.requestID = requestID
  }
}
