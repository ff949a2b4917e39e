import Accounts
import Engine
import Foundation
import Models

/// The served model as Ollama's `/api/tags`, `/api/ps` and `/api/show` describe a model.
struct OllamaModelDetails: Sendable, Encodable {
  var parentModel = ""
  var format = "gguf"
  var family: String
  var families: [String]
  /// Unknown to the server (the GGUF header is not kept after loading): empty rather than guessed.
  var parameterSize = ""
  var quantizationLevel = ""

  init(architecture: String) {
    family = architecture
    families = [architecture]
  }

  enum CodingKeys: String, CodingKey {
    case format, family, families
    case parentModel = "parent_model"
    case parameterSize = "parameter_size"
    case quantizationLevel = "quantization_level"
  }
}

/// One model of `/api/tags` (`expires_at`, `size_vram` and `context_length` only in `/api/ps`).
struct OllamaModelEntry: Sendable, Encodable {
  var name: String
  var model: String
  var modifiedAt: String
  var size: Int
  var digest: String
  var details: OllamaModelDetails
  var expiresAt: String?
  var sizeVram: Int?
  var contextLength: Int?

  /// The served model. `size` is the GGUF file's when `--model` named a file; `digest` identifies
  /// the served model (name, size, architecture, context), not the file's bytes, which are not hashed.
  init(server: ServerContext, model: ModelInfo, running: Bool) {
    let name = server.configuration.modelName
    self.name = name
    self.model = name
    modifiedAt = OllamaReply.timestamp(Date(timeIntervalSince1970: Double(server.host.created)))
    let path = server.configuration.modelPath ?? ""
    size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    let identity = "\(name)\u{0}\(size)\u{0}\(model.architecture)\u{0}\(model.contextLength)"
    digest = SHA256.hash(Array(identity.utf8)).map { String(format: "%02x", $0) }.joined()
    details = OllamaModelDetails(architecture: model.architecture)
    if running {
      // Loaded for the server's life: Ollama's "never unloads" is a far expiry.
      expiresAt = "9999-12-31T23:59:59Z"
      sizeVram = 0
      contextLength = server.host.contextIfLoaded?.contextLength
    }
  }

  enum CodingKeys: String, CodingKey {
    case name, model, size, digest, details
    case modifiedAt = "modified_at"
    case expiresAt = "expires_at"
    case sizeVram = "size_vram"
    case contextLength = "context_length"
  }
}

/// `GET /api/tags` and `GET /api/ps`.
struct OllamaModelList: Sendable, Encodable {
  var models: [OllamaModelEntry]
}

/// `POST /api/show`.
struct OllamaShowResponse: Sendable, Encodable {
  var license = ""
  var modelfile: String
  var parameters: String
  var template = ""
  var details: OllamaModelDetails
  var modelInfo: [String: JSONValue]
  var capabilities: [String]
  var modifiedAt: String

  init(server: ServerContext, context: ModelContext, model: ModelInfo) {
    let entry = OllamaModelEntry(server: server, model: model, running: false)
    modelfile = "# Served by peregrine\nFROM \(server.configuration.modelPath ?? server.configuration.modelName)\n"
    let s = context.samplingDefaults
    parameters = [
      "temperature \(s.temperature)", "top_k \(s.topK)", "top_p \(s.topP)", "min_p \(s.minP)",
      "num_ctx \(context.contextLength)",
    ].joined(separator: "\n")
    details = entry.details
    let a = model.architecture
    modelInfo = [
      "general.architecture": .string(a), "general.name": .string(model.name),
      "\(a).context_length": .number(Double(context.contextLength)),
      "\(a).embedding_length": .number(Double(model.embeddingLength)),
      "\(a).block_count": .number(Double(model.layers)),
      "\(a).vocab_size": .number(Double(model.vocabularySize)),
    ]
    // Every template takes tools (the generic call format is the fallback); thinking only where the
    // template writes its markers.
    capabilities = ["completion", "tools"] + (context.templateThinks ? ["thinking"] : [])
    modifiedAt = entry.modifiedAt
  }

  enum CodingKeys: String, CodingKey {
    case license, modelfile, parameters, template, details, capabilities
    case modelInfo = "model_info"
    case modifiedAt = "modified_at"
  }
}

/// `POST /api/show`'s body (`name` is the older spelling of `model`).
struct OllamaShowRequest: Sendable, Decodable {
  var model: String?
  var name: String?
  var verbose: Bool?
}
