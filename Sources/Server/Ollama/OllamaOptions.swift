/// Ollama's `options`: the model parameters a request may set (Ollama's names). Options Ollama
/// knows but a server of one loaded model cannot change (`num_gpu`, `num_thread`, `use_mmap`, …)
/// and unknown ones are ignored, as Ollama ignores unknown ones; `num_ctx` is accepted and the
/// served context length stays.
struct OllamaOptions: Sendable, Equatable, Decodable {
  var numPredict: Int?
  var temperature: Double?
  var topP: Double?
  var topK: Int?
  var minP: Double?
  var seed: Int64?
  var stop: [String]?
  var numCtx: Int?
  var repeatPenalty: Double?
  var presencePenalty: Double?
  var frequencyPenalty: Double?

  enum CodingKeys: String, CodingKey {
    case temperature, seed, stop
    case numPredict = "num_predict"
    case topP = "top_p"
    case topK = "top_k"
    case minP = "min_p"
    case numCtx = "num_ctx"
    case repeatPenalty = "repeat_penalty"
    case presencePenalty = "presence_penalty"
    case frequencyPenalty = "frequency_penalty"
  }
}
