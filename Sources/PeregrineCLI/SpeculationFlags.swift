import ArgumentParser
import Engine
import Foundation
import GGUF
import Hub
import Kernels
import Models

/// `--speculative ngram`, `--draft-model M`, `--draft-tokens K`, shared by the commands that generate.
struct SpeculationFlags: ParsableArguments {
  @Option(help: "Speculative decoding with a proposer that needs no model: ngram (prompt lookup).")
  var speculative: String?
  @Option(name: .customLong("draft-model"), help: "Speculative decoding with this smaller model (GGUF file or known name) drafting.")
  var draftModel: String?
  @Option(name: .customLong("draft-tokens"), help: "Draft tokens per target pass at most.")
  var draftTokens: Int = 5
  @Option(
    name: .customLong("speculative-step-tokens"),
    help: "serve / bench serve: drafts join an engine step only while it holds fewer tokens than this (decodes, drafts, prompt chunks).")
  var speculativeStepTokens: Int = EngineSpeculation().maxStepTokens

  func validate() throws {
    if let s = speculative, s != "ngram" { throw ValidationError("--speculative takes 'ngram' (use --draft-model for a draft model)") }
    if speculative != nil && draftModel != nil { throw ValidationError("choose --speculative ngram or --draft-model, not both") }
    guard (1...64).contains(draftTokens) else { throw ValidationError("--draft-tokens must be between 1 and 64") }
    guard speculativeStepTokens >= 0 else { throw ValidationError("--speculative-step-tokens must be ≥ 0") }
  }

  /// The serving engine's default for requests that do not choose.
  func engineDefault() -> EngineSpeculation {
    let method: SpeculativeMethod = speculative == "ngram" ? .ngram : draftModel != nil ? .draftModel : .off
    return EngineSpeculation(method: method, draftTokens: draftTokens, maxStepTokens: speculativeStepTokens)
  }

  /// The draft model named by `--draft-model`, loaded onto `pool` (the target's), or nil. It always
  /// runs in the fast order: its logits only propose tokens that the target then checks, so its
  /// arithmetic never reaches the output, and the exact order's half-precision attention and
  /// per-partial Q4_1 sums made a draft token ~12 % slower (SmolLM2 Q4_1 drafting for its F16 copy).
  func loadDraftModel(pool: ThreadPool) throws -> (any LanguageModel)? {
    guard let draftModel else { return nil }
    let path: URL
    do {
      path = try ModelStore().resolve(draftModel, pullIfMissing: true) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    } catch { throw CLIError(error) }
    do {
      return try ModelRegistry.load(try GGUFFile(path: path.path), pool: pool, numerics: .fast)
    } catch { throw CLIError("\(path.path): \(error)") }
  }

  /// The speculation options of `run` / `chat`, loading the draft model (onto `pool`) if one is named.
  func options(pool: ThreadPool) throws -> SpeculationOptions? {
    if speculative == "ngram" { return SpeculationOptions(proposer: .ngram, draftTokens: draftTokens) }
    guard let model = try loadDraftModel(pool: pool) else { return nil }
    return SpeculationOptions(proposer: .draftModel(model), draftTokens: draftTokens)
  }
}
