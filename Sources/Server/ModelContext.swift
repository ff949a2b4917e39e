import Engine

/// What request mapping needs to know of the served model: kept apart from the engine so validation
/// and prompt building are testable without weights.
struct ModelContext: Sendable {
  /// The id clients pass as `model` (and `/v1/models` lists).
  var name: String
  /// Other names accepted as `model` (e.g. the GGUF file name).
  var aliases: Set<String> = []
  var contextLength: Int
  var vocabularySize: Int
  /// A completions prompt to token ids (BOS added when the model wants it; control tokens parsed).
  var encodePrompt: @Sendable (String) -> [Int32]
  /// A conversation to token ids through the model's chat template, ending with the assistant's turn.
  var encodeChat: @Sendable ([ChatMessage]) throws(APIError) -> [Int32]
  /// Builds the decoding constraint for a structured `response_format`; nil when this build has no
  /// constrained decoding (then such requests get a 400 instead of unconstrained text).
  var makeConstraint: (@Sendable (OutputFormat) throws(APIError) -> any TokenConstraint)?
  /// Whether the engine has a draft model, so requests may ask for `"speculative": "draft_model"`.
  var hasDraftModel = false
  /// Sampling for the parameters a request leaves out (the model's recommendation, else llama.cpp's).
  var samplingDefaults = SamplingParameters()

  /// Whether a request's `model` names the served model. Leaving it out means the served model, and
  /// so does "unknown": what SGLang's router (smg) writes in when a request it forwards has none.
  func accepts(model: String?) -> Bool {
    guard let model, !model.isEmpty, model != "unknown" else { return true }
    return model == name || aliases.contains(model)
  }
}
