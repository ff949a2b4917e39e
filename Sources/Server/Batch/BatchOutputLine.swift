import Accounts
import Foundation

/// One line of a batch's output or error file, in OpenAI's format:
/// `{"id","custom_id","response":{"status_code","request_id","body"},"error"}`. A line that got an
/// HTTP answer carries it in `response` (`error` null); a line that never ran (cancelled, expired)
/// has `response` null and `error` `{"code","message"}`.
enum BatchOutputLine {
  private struct Response: Encodable {
    var statusCode: Int
    var requestID: String
    var body: JSONValue

    enum CodingKeys: String, CodingKey {
      case body
      case statusCode = "status_code"
      case requestID = "request_id"
    }
  }

  private struct LineError: Encodable {
    var code: String
    var message: String
  }

  private struct Line: Encodable {
    var id: String
    var customID: String
    var response: Response?
    var error: LineError?

    enum CodingKeys: String, CodingKey {
      case id, response, error
      case customID = "custom_id"
    }

    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(id, forKey: .id)
      try c.encode(customID, forKey: .customID)
      try c.encode(response, forKey: .response)
      try c.encode(error, forKey: .error)
    }
  }

  /// A line that got an HTTP answer (`body`: its JSON).
  static func answered(customID: String, requestID: String, status: Int, body: Data) -> Data {
    let value = (try? JSONDecoder().decode(JSONValue.self, from: body)) ?? .string(String(decoding: body, as: UTF8.self))
    return encode(
      Line(
        id: requestID, customID: customID,
        response: Response(statusCode: status, requestID: requestID, body: value), error: nil))
  }

  /// A line that never got an answer.
  static func unanswered(customID: String, requestID: String, code: String, message: String) -> Data {
    encode(Line(id: requestID, customID: customID, response: nil, error: LineError(code: code, message: message)))
  }

  /// The line a finished batch line becomes.
  static func finished(_ line: BatchLine) -> Data {
    let requestID = line.requestID ?? "batch_req_\(line.batchID)_\(line.line)"
    if let status = line.statusCode, let response = line.response {
      return answered(customID: line.customID, requestID: requestID, status: status, body: Data(response.utf8))
    }
    let error = line.error.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
    return unanswered(
      customID: line.customID, requestID: requestID, code: error["code"] ?? "batch_failed",
      message: error["message"] ?? "The request did not run.")
  }

  private static func encode(_ line: Line) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    var data = (try? encoder.encode(line)) ?? Data()
    data.append(UInt8(ascii: "\n"))
    return data
  }
}
