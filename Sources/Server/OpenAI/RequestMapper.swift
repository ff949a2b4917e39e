import Accounts
import Constraints
import Engine
import Foundation

/// Checks OpenAI request bodies and turns them into engine requests. Every refusal names the
/// parameter and says why, so a client can fix its call.
struct RequestMapper: Sendable {
  var model: ModelContext
  /// Upper bounds that keep one request from monopolising the server.
  var maxChoices = 16
  var maxStopSequences = 16
  var maxStopLength = 512
  /// OpenAI's cap on `user`, in characters; it is stored with every usage record.
  var maxUserLength = 256
  /// Longest `cache_salt` in bytes (vLLM suggests 43 base64 characters, 256 bits).
  var maxCacheSaltLength = 512
  /// The prefix-cache namespace of the caller (its API key, unless the server shares one).
  var cacheNamespace = CacheNamespace.shared
  /// Draws a seed when the request has none (tests pin it).
  var randomSeed: @Sendable () -> UInt64 = { UInt64.random(in: 0...UInt64.max) }

  /// The parameters both APIs share, after decoding.
  struct Common {
    var model: String?
    var maxTokens: Int?
    var temperature: Double?
    var topP: Double?
    var topK: Int?
    var minP: Double?
    var n: Int?
    var stop: StopSequences?
    var seed: Int64?
    var presencePenalty: Double?
    var frequencyPenalty: Double?
    var repetitionPenalty: Double?
    var logitBias: [String: Double]?
    var ignoreEOS: Bool?
    var responseFormat: ResponseFormat?
    var stream: Bool?
    var streamOptions: StreamOptions?
    var user: String?
    var speculative: String?
    var draftTokens: Int?
    var cacheSalt: String?
    var cache: Bool?
  }

  // MARK: - Completions

  func plan(_ r: CompletionRequest, id: String) throws(APIError) -> GenerationPlan {
    if let suffix = r.suffix, !suffix.isEmpty {
      throw .invalidParameter("suffix", "'suffix' (fill-in-the-middle) is not supported.")
    }
    if let bestOf = r.bestOf, bestOf != (r.n ?? 1) {
      throw .invalidParameter("best_of", "'best_of' must equal 'n' (ranking candidates is not supported).")
    }
    if let lp = r.logprobs, !(0...20).contains(lp) {
      throw .invalidParameter("logprobs", "'logprobs' must be between 0 and 20, got \(lp).")
    }
    if r.echo == true, r.logprobs != nil {
      throw .invalidParameter(
        "echo", "'echo' with 'logprobs' is not supported (prompt log-probabilities are not computed).")
    }
    guard r.prompt.count > 0 else { throw .invalidParameter("prompt", "'prompt' must not be an empty list.") }
    guard r.prompt.count <= maxChoices else {
      throw .invalidParameter("prompt", "At most \(maxChoices) prompts per request, got \(r.prompt.count).")
    }
    var prompts: [[Int32]] = []
    var echoTexts: [String] = []
    switch r.prompt {
    case .texts(let texts):
      for t in texts {
        prompts.append(model.encodePrompt(t))
        echoTexts.append(t)
      }
    case .tokens(let lists):
      for (i, ids) in lists.enumerated() {
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= model.vocabularySize }) {
          throw .invalidParameter(
            "prompt", "Token id \(bad) in prompt \(i) is outside the vocabulary (0..<\(model.vocabularySize)).")
        }
        prompts.append(ids)
        echoTexts.append("")  // filled by the route, which has the tokenizer
      }
    }
    let common = Common(
      model: r.model, maxTokens: r.maxTokens, temperature: r.temperature, topP: r.topP, topK: r.topK,
      minP: r.minP, n: r.n, stop: r.stop, seed: r.seed, presencePenalty: r.presencePenalty,
      frequencyPenalty: r.frequencyPenalty, repetitionPenalty: r.repetitionPenalty, logitBias: r.logitBias,
      ignoreEOS: r.ignoreEOS, responseFormat: r.responseFormat, stream: r.stream, streamOptions: r.streamOptions,
      user: r.user, speculative: r.speculative, draftTokens: r.draftTokens, cacheSalt: r.cacheSalt,
      cache: r.cache)
    // OpenAI's legacy default is 16 tokens.
    return try build(
      common, endpoint: .completions, id: id, prompts: prompts, promptParam: "prompt", maxTokensParam: "max_tokens",
      defaultMaxTokens: 16, topLogprobs: r.logprobs, echoTexts: r.echo == true ? echoTexts : nil)
  }

  // MARK: - Shared

  /// - Parameter extraConstraint: a constraint of the endpoint's own (tool calls, thinking budget),
  ///   copied into every choice; refused together with a structured `response_format`.
  func build(
    _ c: Common, endpoint: GenerationPlan.Endpoint, id: String, prompts: [[Int32]], promptParam: String,
    maxTokensParam: String, defaultMaxTokens: Int?, topLogprobs: Int?, echoTexts: [String]?,
    extraConstraint: (any TokenConstraint)? = nil
  ) throws(APIError) -> GenerationPlan {
    if let requested = c.model, !model.accepts(model: requested) {
      throw .modelNotFound(requested, served: model.name)
    }
    let n = c.n ?? 1
    guard (1...maxChoices).contains(n) else {
      throw .invalidParameter("n", "'n' must be between 1 and \(maxChoices), got \(n).")
    }
    guard prompts.count * n <= maxChoices * 4 else {
      throw .invalidParameter(
        "n", "\(prompts.count) prompts × n=\(n) is more choices than allowed (\(maxChoices * 4)).")
    }
    if let m = c.maxTokens, m < 1 {
      throw .invalidParameter(maxTokensParam, "'\(maxTokensParam)' must be at least 1, got \(m).")
    }
    let sampling = try samplingParameters(c)
    let stops = try stopSequences(c.stop)
    let bias = try logitBias(c.logitBias)
    let format = try outputFormat(c.responseFormat)
    if extraConstraint != nil, format != .text {
      throw .invalidParameter(
        "response_format", "A structured 'response_format' cannot be combined with a forced tool call or a thinking budget.")
    }
    let speculative = try speculativeMethod(c)
    if c.streamOptions != nil, c.stream != true {
      throw .invalidParameter("stream_options", "'stream_options' is only allowed when 'stream' is true.")
    }
    let baseSeed = c.seed.map { UInt64(bitPattern: $0) } ?? randomSeed()
    try checkUser(c.user)
    let salt = cacheNamespace.engineSalt(requestSalt: try cacheSalt(c.cacheSalt))

    var requests: [EngineRequest] = []
    // Constraints are values: each choice gets its own copy of the starting state.
    var shared = extraConstraint
    if shared == nil { shared = try constraint(for: format) }
    for (p, prompt) in prompts.enumerated() {
      if prompt.isEmpty { throw .invalidParameter(promptParam, "The prompt is empty.") }
      let room = model.contextLength - prompt.count
      let maxTokens = c.maxTokens ?? defaultMaxTokens.map { min($0, max(room, 1)) } ?? max(room, 1)
      // Compared without adding: a client's max_tokens near Int.max must not overflow.
      if maxTokens > model.contextLength - prompt.count {
        throw APIError(
          status: 400,
          message: "The prompt (\(prompt.count) tokens) plus \(c.maxTokens == nil ? "the completion" : maxTokensParam) "
            + "(\(maxTokens) tokens) is more than the model's context length of \(model.contextLength) tokens; "
            + "\(room > 0 ? "ask for at most \(room) tokens" : "shorten the prompt").",
          type: "invalid_request_error", param: c.maxTokens == nil ? promptParam : maxTokensParam,
          code: "context_length_exceeded")
      }
      for j in 0..<n {
        var s = sampling
        // Each choice gets its own stream of randomness, reproducible from the request's seed.
        s.seed = baseSeed &+ UInt64(p * n + j) &* 0x9E37_79B9_7F4A_7C15
        requests.append(
          EngineRequest(
            id: "\(id)-\(p * n + j)", promptIDs: prompt, sampling: s, maxTokens: maxTokens,
            ignoreEndOfGeneration: c.ignoreEOS ?? false, stopSequences: stops, topLogprobs: topLogprobs,
            logitBias: bias, cacheSalt: salt, constraint: shared, speculative: speculative,
            draftTokens: c.draftTokens))
      }
    }
    var plan = GenerationPlan(
      endpoint: endpoint, id: id, requests: requests, n: n, promptTokenCounts: prompts.map(\.count),
      stream: c.stream ?? false, includeUsage: c.streamOptions?.includeUsage ?? false, logprobs: topLogprobs,
      echoTexts: echoTexts, user: c.user, model: model.name)
    // Greedy or seeded: the same request gives the same output, so its result may be cached.
    plan.cacheable = c.cache != false && (sampling.temperature <= 0 || c.seed != nil)
    plan.outputFormatKey = c.responseFormat.map { String(describing: $0) }
    plan.defaultedMaxTokens = c.maxTokens == nil
    return plan
  }

  /// `user` is stored with the usage record: longer than OpenAI allows is refused as OpenAI does.
  func checkUser(_ user: String?) throws(APIError) {
    guard let user else { return }
    let length = user.unicodeScalars.count
    if length > maxUserLength {
      throw APIError(
        status: 400,
        message: "Invalid 'user': string too long. Expected a string with maximum length \(maxUserLength), "
          + "but got a string with length \(length) instead.",
        type: "invalid_request_error", param: "user", code: "string_above_max_length")
    }
  }

  /// vLLM's `cache_salt`: requests share cached prompt blocks only under equal salts (and namespace).
  func cacheSalt(_ salt: String?) throws(APIError) -> String? {
    guard let salt else { return nil }
    if salt.isEmpty {
      throw .invalidParameter("cache_salt", "'cache_salt' must be a non-empty string if provided.")
    }
    if salt.utf8.count > maxCacheSaltLength {
      throw .invalidParameter("cache_salt", "'cache_salt' must be at most \(maxCacheSaltLength) bytes long.")
    }
    return salt
  }

  func samplingParameters(_ c: Common) throws(APIError) -> SamplingParameters {
    // What the request leaves out comes from the model's recommended sampling (else llama.cpp's
    // defaults), as llama-server and Ollama do: OpenAI's temperature-1 sampling with every filter off
    // makes small models ramble.
    var s = model.samplingDefaults
    if let t = c.temperature { s.temperature = Float(t) }
    if let p = c.topP { s.topP = Float(p) }
    if let m = c.minP { s.minP = Float(m) }
    if let v = c.presencePenalty { s.presencePenalty = Float(v) }
    if let v = c.frequencyPenalty { s.frequencyPenalty = Float(v) }
    if let v = c.repetitionPenalty { s.repetitionPenalty = Float(v) }
    if let t = c.temperature, !(t.isFinite && t >= 0 && t <= 2) {
      throw .invalidParameter("temperature", "'temperature' must be between 0 and 2, got \(t).")
    }
    // Checked as the sampler's Float sees it: 5e-324 is positive as a Double but 0 as a Float.
    if let p = c.topP, !(p.isFinite && Float(p) > 0 && p <= 1) {
      throw .invalidParameter("top_p", "'top_p' must be greater than 0 and at most 1, got \(p).")
    }
    if let k = c.topK {
      // vLLM spells "off" as -1; we take it too.
      guard k >= -1 else { throw .invalidParameter("top_k", "'top_k' must be -1, 0 (off) or positive, got \(k).") }
      s.topK = max(0, k)
    }
    if let m = c.minP, !(m.isFinite && m >= 0 && m <= 1) {
      throw .invalidParameter("min_p", "'min_p' must be between 0 and 1, got \(m).")
    }
    if let v = c.presencePenalty, !(v.isFinite && abs(v) <= 2) {
      throw .invalidParameter("presence_penalty", "'presence_penalty' must be between -2 and 2, got \(v).")
    }
    if let v = c.frequencyPenalty, !(v.isFinite && abs(v) <= 2) {
      throw .invalidParameter("frequency_penalty", "'frequency_penalty' must be between -2 and 2, got \(v).")
    }
    if let v = c.repetitionPenalty, !(v.isFinite && Float(v) > 0 && v <= 10) {
      throw .invalidParameter(
        "repetition_penalty", "'repetition_penalty' must be greater than 0 and at most 10, got \(v).")
    }
    if let why = s.validationError { throw .invalidParameter(nil, why) }
    return s
  }

  func stopSequences(_ stop: StopSequences?) throws(APIError) -> [String] {
    guard let values = stop?.values else { return [] }
    guard values.count <= maxStopSequences else {
      throw .invalidParameter("stop", "At most \(maxStopSequences) stop sequences, got \(values.count).")
    }
    for s in values {
      if s.isEmpty { throw .invalidParameter("stop", "Stop sequences must not be empty strings.") }
      if s.utf8.count > maxStopLength {
        throw .invalidParameter("stop", "Stop sequences must be at most \(maxStopLength) bytes long.")
      }
    }
    return values
  }

  func logitBias(_ bias: [String: Double]?) throws(APIError) -> [Int32: Float] {
    guard let bias else { return [:] }
    var out: [Int32: Float] = [:]
    for (key, value) in bias {
      guard let id = Int32(key), id >= 0, Int(id) < model.vocabularySize else {
        throw .invalidParameter(
          "logit_bias", "'logit_bias' key '\(key)' is not a token id of this model (0..<\(model.vocabularySize)).")
      }
      guard value.isFinite, abs(value) <= 100 else {
        throw .invalidParameter("logit_bias", "'logit_bias' values must be between -100 and 100, got \(value).")
      }
      out[id] = Float(value)
    }
    return out
  }

  /// The extension fields `speculative` ("ngram" | "draft_model" | "none"; absent: the server's
  /// default) and `draft_tokens` (1–64). "draft_model" needs a server started with `--draft-model`.
  func speculativeMethod(_ c: Common) throws(APIError) -> SpeculativeMethod? {
    if let k = c.draftTokens, !(1...EngineSpeculation.maxDraftTokens).contains(k) {
      throw .invalidParameter(
        "draft_tokens", "'draft_tokens' must be between 1 and \(EngineSpeculation.maxDraftTokens), got \(k).")
    }
    guard let name = c.speculative else { return nil }
    guard let method = SpeculativeMethod(rawValue: name) else {
      throw .invalidParameter(
        "speculative",
        "'speculative' must be 'ngram', 'draft_model' or 'none', got '\(name)'.")
    }
    if method == .draftModel && !model.hasDraftModel {
      throw .invalidParameter(
        "speculative", "'speculative': 'draft_model' needs a server started with --draft-model; this one has none.")
    }
    return method
  }

  func outputFormat(_ f: ResponseFormat?) throws(APIError) -> OutputFormat {
    guard let f else { return .text }
    switch f.type {
    case .text: return .text
    case .jsonObject: return .jsonObject
    case .jsonSchema:
      guard let schema = f.jsonSchema?.schema, case .object = schema else {
        throw .invalidParameter(
          "response_format.json_schema.schema", "'json_schema' needs a 'schema' that is a JSON object.")
      }
      return .jsonSchema(schema)
    }
  }

  private func constraint(for format: OutputFormat) throws(APIError) -> (any TokenConstraint)? {
    if format == .text { return nil }
    guard let make = model.makeConstraint else {
      throw .invalidParameter(
        "response_format", "Structured output (json_object / json_schema) is not available in this build.")
    }
    return try make(format)
  }
}
