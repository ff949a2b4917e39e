import Engine
import Models

// What a router in front of many replicas asks each one besides the OpenAI routes: SGLang's worker
// endpoints, which its router (`sglang-router`, binary `smg`) calls on every worker it registers.
// Field names are SGLang's, so the router reads Peregrine as it reads an SGLang worker.

/// `GET /get_load`: one entry per data-parallel rank (a Peregrine process is one rank). The router's
/// `power_of_two` policy polls it and sends each request to the less loaded of two random workers,
/// comparing `num_tokens` summed over ranks.
struct WorkerLoad: Encodable {
  var dpRank = 0
  /// Running plus waiting requests.
  var numReqs: Int
  var numWaitingReqs: Int
  /// Tokens of the running requests (prompt and generated so far) plus the prompts still waiting,
  /// as SGLang counts its KV tokens in use plus its queued prompts.
  var numTokens: Int

  init(_ s: EngineStatistics) {
    numReqs = s.running + s.waiting
    numWaitingReqs = s.waiting
    numTokens = s.runningTokens + s.waitingTokens
  }

  enum CodingKeys: String, CodingKey {
    case dpRank = "dp_rank"
    case numReqs = "num_reqs"
    case numWaitingReqs = "num_waiting_reqs"
    case numTokens = "num_tokens"
  }
}

/// `GET /server_info` (and SGLang's older `/get_server_info`): how this worker runs. The router
/// labels the worker with `served_model_name`, `tp_size`, `dp_size` and `model_path`.
struct WorkerServerInfo: Encodable {
  var modelPath: String
  var servedModelName: String
  var tpSize = 1
  var dpSize = 1
  var ppSize = 1
  var version: String
  var contextLength: Int
  /// Tokens the KV cache holds in all (SGLang's `max_total_num_tokens`).
  var maxTotalNumTokens: Int
  var maxRunningRequests: Int?
  var maxQueuedRequests: Int?
  /// Tokens per engine step, prompt chunks included (SGLang's chunked prefill size).
  var chunkedPrefillSize: Int?
  /// Positions per KV block.
  var pageSize: Int?
  var kvCacheDtype: String
  var disableRadixCache: Bool?
  var engine = "peregrine"

  init(configuration: ServerConfiguration, context: ModelContext, engine: any ServingEngine) {
    modelPath = configuration.modelPath ?? configuration.modelName
    servedModelName = configuration.modelName
    version = configuration.version
    contextLength = context.contextLength
    maxTotalNumTokens = engine.capacityTokens
    let statistics = engine.statistics()
    kvCacheDtype = statistics.kvCacheType
    if let c = engine.engineConfiguration {
      maxRunningRequests = c.maxRunning
      maxQueuedRequests = c.maxWaiting
      chunkedPrefillSize = c.maxBatchTokens
      pageSize = c.blockSize
      disableRadixCache = !c.prefixCaching
    }
  }

  enum CodingKeys: String, CodingKey {
    case version, engine
    case modelPath = "model_path"
    case servedModelName = "served_model_name"
    case tpSize = "tp_size"
    case dpSize = "dp_size"
    case ppSize = "pp_size"
    case contextLength = "context_length"
    case maxTotalNumTokens = "max_total_num_tokens"
    case maxRunningRequests = "max_running_requests"
    case maxQueuedRequests = "max_queued_requests"
    case chunkedPrefillSize = "chunked_prefill_size"
    case pageSize = "page_size"
    case kvCacheDtype = "kv_cache_dtype"
    case disableRadixCache = "disable_radix_cache"
  }
}

/// `GET /model_info` (and `/get_model_info`): the served model as Hugging Face names it, which the
/// router records as the worker's `model_type` and `architectures`.
struct WorkerModelInfo: Encodable {
  var modelPath: String
  var servedModelName: String
  var isGeneration = true
  var modelType: String
  var architectures: [String]
  var contextLength: Int
  var vocabSize: Int
  var hasImageUnderstanding = false
  var hasAudioUnderstanding = false

  init(configuration: ServerConfiguration, context: ModelContext, model: ModelInfo) {
    modelPath = configuration.modelPath ?? configuration.modelName
    servedModelName = configuration.modelName
    (modelType, architectures) = Self.huggingFaceNames(ggufArchitecture: model.architecture)
    contextLength = context.contextLength
    vocabSize = context.vocabularySize
  }

  /// GGUF's `general.architecture` to the `model_type` and `architectures` of the Hugging Face
  /// config the model was converted from.
  static func huggingFaceNames(ggufArchitecture a: String) -> (modelType: String, architectures: [String]) {
    switch a {
    case "llama": ("llama", ["LlamaForCausalLM"])
    case "gemma3": ("gemma3_text", ["Gemma3ForCausalLM"])
    default: (a, [a.prefix(1).uppercased() + a.dropFirst() + "ForCausalLM"])
    }
  }

  enum CodingKeys: String, CodingKey {
    case architectures
    case modelPath = "model_path"
    case servedModelName = "served_model_name"
    case isGeneration = "is_generation"
    case modelType = "model_type"
    case contextLength = "context_length"
    case vocabSize = "vocab_size"
    case hasImageUnderstanding = "has_image_understanding"
    case hasAudioUnderstanding = "has_audio_understanding"
  }
}
