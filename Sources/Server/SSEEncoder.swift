import Foundation

/// Server-sent events as OpenAI streams them: one `data: <json>` event per chunk, blank-line
/// separated, ending with `data: [DONE]`.
enum SSEEncoder {
  static let done = Data("data: [DONE]\n\n".utf8)

  static func event(_ value: some Encodable) -> Data {
    var out = Data("data: ".utf8)
    out.append(json(value))
    out.append(contentsOf: [0x0A, 0x0A])
    return out
  }

  /// Compact JSON, never spanning lines (the encoder escapes newlines inside strings), so one
  /// `data:` line carries it whole.
  static func json(_ value: some Encodable) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return (try? encoder.encode(value)) ?? Data("{}".utf8)
  }
}
