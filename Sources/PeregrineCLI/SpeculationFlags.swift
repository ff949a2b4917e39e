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

  /// The serving engine's default for requests that do not choose. The engine drafts by prompt
  /// lookup only: a draft model is refused rather than silently ignored.
  func engineDefault(command: String) throws -> EngineSpeculation {
    if draftModel != nil {
      throw ValidationError("--draft-model is not supported by \(command) yet; use --speculative ngram")
    }
    return EngineSpeculation(
      method: speculative == "ngram" ? .ngram : .off, draftTokens: draftTokens, maxStepTokens: speculativeStepTokens)
  }

  /// The speculation options, loading the draft model if one is named.
  func options(threads: Int) throws -> SpeculationOptions? {
    if speculative == "ngram" { return SpeculationOptions(proposer: .ngram, draftTokens: draftTokens) }
    guard let draftModel else { return nil }
    let path: URL
    do {
      path = try ModelStore().resolve(draftModel, pullIfMissing: true) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    } catch { throw CLIError(error) }
    do {
      let file = try GGUFFile(path: path.path)
      let model = try ModelRegistry.load(file, pool: ThreadPool(threadCount: threads))
      return SpeculationOptions(proposer: .draftModel(model), draftTokens: draftTokens)
    } catch { throw CLIError("\(path.path): \(error)") }
  }
}
