/// How the next token is chosen. Defaults follow llama.cpp's command-line defaults.
public struct SamplingParameters: Sendable, Equatable, Codable {
  /// 0 or below picks the most likely token (greedy).
  public var temperature: Float = 0.8
  /// Keep only the k most likely tokens; 0 disables.
  public var topK: Int = 40
  /// Keep the smallest set whose probability mass reaches p; 1 disables.
  public var topP: Float = 0.95
  /// Drop tokens less likely than `minP` × the top token's probability; 0 disables.
  public var minP: Float = 0.05
  /// Divide positive logits (multiply negative ones) of tokens seen recently; 1 disables.
  public var repetitionPenalty: Float = 1
  /// Subtract `frequencyPenalty × count` from recently seen tokens' logits.
  public var frequencyPenalty: Float = 0
  /// Subtract `presencePenalty` from every recently seen token's logit.
  public var presencePenalty: Float = 0
  /// How many recent tokens the penalties look at.
  public var penaltyWindow: Int = 64
  /// Same seed, same prompt, same parameters → same output.
  public var seed: UInt64 = 0

  public init() {}

  public static var greedy: SamplingParameters {
    var p = SamplingParameters()
    p.temperature = 0
    return p
  }

  /// Why the parameters are unusable, or nil.
  public var validationError: String? {
    if !temperature.isFinite || temperature < 0 { return "temperature must be a finite number ≥ 0, got \(temperature)" }
    if topK < 0 { return "top-k must be ≥ 0, got \(topK)" }
    if !(topP > 0 && topP <= 1) { return "top-p must be in (0, 1], got \(topP)" }
    if !(minP >= 0 && minP <= 1) { return "min-p must be in [0, 1], got \(minP)" }
    if !(repetitionPenalty > 0) || !repetitionPenalty.isFinite {
      return "repetition penalty must be a finite number > 0, got \(repetitionPenalty)"
    }
    if !frequencyPenalty.isFinite || abs(frequencyPenalty) > 100 { return "frequency penalty must be in [-100, 100]" }
    if !presencePenalty.isFinite || abs(presencePenalty) > 100 { return "presence penalty must be in [-100, 100]" }
    if penaltyWindow < 0 { return "penalty window must be ≥ 0" }
    return nil
  }
}
