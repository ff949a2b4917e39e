import Accounts
import Foundation

/// Checks a batch input file line by line before anything runs: each line must be a JSON object
/// with a unique `custom_id`, `"method": "POST"`, the batch's `url`, and a `body` the endpoint
/// accepts. Every problem is reported with its 1-based line number, as OpenAI's `errors` list does.
struct BatchInputValidator: Sendable {
  /// The batch's endpoint: `/v1/chat/completions` or `/v1/completions`.
  var endpoint: String
  /// Lines per batch at most (OpenAI's limit).
  var maxLines = 50_000
  /// Errors reported at most (the rest are counted in the last message).
  var maxErrors = 1000

  static let endpoints = ["/v1/chat/completions", "/v1/completions"]

  /// One input line as it arrives.
  private struct Line: Decodable {
    var customID: String?
    var method: String?
    var url: String?
    var body: JSONValue?

    enum CodingKeys: String, CodingKey {
      case method, url, body
      case customID = "custom_id"
    }
  }

  enum Outcome: Sendable {
    /// The requests, in file order: custom id and body (JSON text).
    case valid([(customID: String, body: String)])
    case invalid([BatchWire.LineError], lineCount: Int)
  }

  func validate(_ content: Data) -> Outcome {
    var errors: [BatchWire.LineError] = []
    var valid: [(customID: String, body: String)] = []
    var seen: [String: Int] = [:]
    var number = 0
    var skipped = 0
    func report(_ code: String, _ message: String, param: String? = nil) {
      if errors.count < maxErrors {
        errors.append(.init(code: code, message: message, param: param, line: number))
      } else {
        skipped += 1
      }
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    for raw in content.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
      number += 1
      let text = raw.last == UInt8(ascii: "\r") ? raw.dropLast() : raw[...]
      if text.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
      if valid.count + errors.count + skipped >= maxLines {
        report("too_many_requests", "A batch holds at most \(maxLines) requests.")
        break
      }
      let line: Line
      do { line = try JSONDecoder().decode(Line.self, from: Data(text)) } catch {
        report("invalid_json_line", "Line \(number) is not a JSON object with custom_id, method, url and body.")
        continue
      }
      guard let id = line.customID, !id.isEmpty else {
        report("missing_custom_id", "Line \(number) has no custom_id.", param: "custom_id")
        continue
      }
      guard id.unicodeScalars.count <= 512 else {
        report("invalid_custom_id", "custom_id on line \(number) is longer than 512 characters.", param: "custom_id")
        continue
      }
      if let first = seen[id] {
        report(
          "duplicate_custom_id", "custom_id '\(id)' on line \(number) was already used on line \(first).",
          param: "custom_id")
        continue
      }
      seen[id] = number
      guard line.method?.uppercased() == "POST" else {
        report("invalid_method", "Line \(number): method must be POST.", param: "method")
        continue
      }
      guard line.url == endpoint else {
        report(
          "mismatched_url", "Line \(number): url '\(line.url ?? "")' is not this batch's endpoint \(endpoint).",
          param: "url")
        continue
      }
      guard let body = line.body, case .object = body, let bodyData = try? encoder.encode(body) else {
        report("invalid_body", "Line \(number): body must be a JSON object.", param: "body")
        continue
      }
      if let why = Self.shapeError(bodyData, endpoint: endpoint) {
        report("invalid_body", "Line \(number): \(why)", param: "body")
        continue
      }
      valid.append((id, String(decoding: bodyData, as: UTF8.self)))
    }
    if skipped > 0 {
      errors.append(.init(code: "too_many_errors", message: "\(skipped) more lines have errors.", param: nil, line: nil))
    }
    if valid.isEmpty && errors.isEmpty {
      errors.append(.init(code: "empty_file", message: "The input file has no requests.", param: nil, line: nil))
    }
    return errors.isEmpty ? .valid(valid) : .invalid(errors, lineCount: valid.count + errors.count + skipped)
  }

  /// Whether the body decodes as the endpoint's request (the message says what does not).
  static func shapeError(_ body: Data, endpoint: String) -> String? {
    do {
      if endpoint == "/v1/chat/completions" {
        _ = try RequestBodyReader.decode(ChatCompletionRequest.self, from: body)
      } else {
        _ = try RequestBodyReader.decode(CompletionRequest.self, from: body)
      }
      return nil
    } catch {
      return error.message
    }
  }
}
