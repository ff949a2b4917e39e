/// What a user feels of one generation, measured on the monotonic clock.
public struct GenerationTimings: Sendable, Equatable, Codable {
  public var promptTokens: Int
  /// From the start of prompt processing to the first generated token.
  public var ttftMilliseconds: Double
  public var prefillTokensPerSecond: Double
  public var generatedTokens: Int
  /// Tokens after the first, over the time after the first.
  public var decodeTokensPerSecond: Double
  /// Speculative decoding only: draft tokens proposed and accepted, their ratio, and the mean
  /// number of tokens each target pass produced (accepted drafts + 1).
  public var draftTokens: Int? = nil
  public var acceptedTokens: Int? = nil
  public var acceptanceRate: Double? = nil
  public var meanAcceptedLength: Double? = nil

  enum CodingKeys: String, CodingKey {
    case promptTokens = "prompt_tokens"
    case ttftMilliseconds = "ttft_ms"
    case prefillTokensPerSecond = "prefill_tokens_per_second"
    case generatedTokens = "generated_tokens"
    case decodeTokensPerSecond = "decode_tokens_per_second"
    case draftTokens = "draft_tokens"
    case acceptedTokens = "accepted_tokens"
    case acceptanceRate = "acceptance_rate"
    case meanAcceptedLength = "mean_accepted_length"
  }

  /// The one-line summary `run` prints on stderr.
  public var summary: String {
    func f(_ v: Double) -> String { String(format: "%.1f", v) }
    return
      "prompt \(promptTokens) tokens, TTFT \(f(ttftMilliseconds)) ms, prefill \(f(prefillTokensPerSecond)) tok/s, "
      + "generated \(generatedTokens) tokens, decode \(f(decodeTokensPerSecond)) tok/s"
      + (acceptanceRate.map { ", draft acceptance \(f($0 * 100)) %, \(String(format: "%.2f", meanAcceptedLength ?? 0)) tokens/pass" } ?? "")
  }
}
