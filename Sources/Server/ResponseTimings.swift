import Engine

/// The `timings` extension field on responses: where the time went for one request. Carries both our
/// names and llama-server's (`prompt_n`, `predicted_per_second`, …) so tools written for either read it.
struct ResponseTimings: Sendable, Equatable, Codable {
  var queueSeconds: Double
  var ttftSeconds: Double
  var e2eSeconds: Double
  var promptN: Int
  var cachedN: Int
  var predictedN: Int
  var promptMs: Double
  var promptPerSecond: Double
  var predictedMs: Double
  var predictedPerSecond: Double
  /// Speculative decoding only (absent without): draft tokens checked and accepted (llama-server's
  /// names), their ratio, and tokens per checking pass.
  var draftN: Int?
  var draftAcceptedN: Int?
  var acceptanceRate: Double?
  var meanAcceptedLength: Double?

  init(_ completion: EngineCompletion) {
    let t = completion.timings
    queueSeconds = t.queueSeconds
    ttftSeconds = t.ttftSeconds
    e2eSeconds = t.e2eSeconds
    promptN = completion.promptTokens
    cachedN = completion.cachedPromptTokens
    predictedN = completion.completionTokens
    promptMs = max(0, t.ttftSeconds - t.queueSeconds) * 1000
    promptPerSecond = t.prefillTokensPerSecond
    predictedMs = max(0, t.e2eSeconds - t.ttftSeconds) * 1000
    predictedPerSecond = t.decodeTokensPerSecond
    draftN = t.draftTokens
    draftAcceptedN = t.acceptedTokens
    acceptanceRate = t.acceptanceRate
    meanAcceptedLength = t.meanAcceptedLength
  }

  enum CodingKeys: String, CodingKey {
    case queueSeconds = "queue_s"
    case ttftSeconds = "ttft_s"
    case e2eSeconds = "e2e_s"
    case promptN = "prompt_n"
    case cachedN = "cached_n"
    case predictedN = "predicted_n"
    case promptMs = "prompt_ms"
    case promptPerSecond = "prompt_per_second"
    case predictedMs = "predicted_ms"
    case predictedPerSecond = "predicted_per_second"
    case draftN = "draft_n"
    case draftAcceptedN = "draft_n_accepted"
    case acceptanceRate = "acceptance_rate"
    case meanAcceptedLength = "mean_accepted_length"
  }
}
