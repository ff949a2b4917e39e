/// What a user feels of one generation, measured on the monotonic clock.
public struct GenerationTimings: Sendable, Equatable, Codable {
  public var promptTokens: Int
  /// From the start of prompt processing to the first generated token.
  public var ttftMilliseconds: Double
  public var prefillTokensPerSecond: Double
  public var generatedTokens: Int
  /// Tokens after the first, over the time after the first.
  public var decodeTokensPerSecond: Double

  enum CodingKeys: String, CodingKey {
    case promptTokens = "prompt_tokens"
    case ttftMilliseconds = "ttft_ms"
    case prefillTokensPerSecond = "prefill_tokens_per_second"
    case generatedTokens = "generated_tokens"
    case decodeTokensPerSecond = "decode_tokens_per_second"
  }

  /// The one-line summary `run` prints on stderr.
  public var summary: String {
    func f(_ v: Double) -> String { String(format: "%.1f", v) }
    return
      "prompt \(promptTokens) tokens, TTFT \(f(ttftMilliseconds)) ms, prefill \(f(prefillTokensPerSecond)) tok/s, "
      + "generated \(generatedTokens) tokens, decode \(f(decodeTokensPerSecond)) tok/s"
  }
}
