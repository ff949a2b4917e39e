import ArgumentParser
import Engine
import Foundation

struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Generate text from a prompt, streaming it to stdout.",
    discussion: "Ends with one line on stderr: prompt tokens, TTFT, prefill and decode speed.")

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var kvCache: KVCacheOption
  @Option(name: .shortAndLong, help: "The prompt (a user message unless --raw).") var prompt: String
  @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.") var maxTokens: Int = 256
  @OptionGroup var sampling: SamplingOptions
  @OptionGroup var speculation: SpeculationFlags
  @Flag(help: "Send the prompt as is, without the chat template.") var raw = false
  @Flag(help: "Print one JSON object (ids, text, timings) instead of streaming.") var json = false
  @Flag(name: .customLong("ignore-eos"), help: "Keep generating past end-of-generation tokens, up to --max-tokens.")
  var ignoreEOS = false

  func validate() throws {
    guard maxTokens >= 0 && maxTokens <= 1 << 20 else { throw ValidationError("--max-tokens must be between 0 and 1048576") }
  }

  func run() throws {
    let loaded = try modelOptions.load()
    // Raw prompts get BOS as the GGUF says; templated ones carry their special tokens (and BOS).
    let ids =
      raw
      ? loaded.tokenizer.encode(prompt, addSpecial: true, parseSpecial: true)
      : try loaded.template.encode([ChatMessage(role: "user", content: prompt)], tokenizer: loaded.tokenizer)
    var options = GenerationOptions()
    options.maxTokens = maxTokens
    options.sampling = sampling.parameters(loaded.samplingDefaults, seed: .random(in: 0...UInt64.max))
    options.speculation = try speculation.options(pool: loaded.pool)
    options.stopAtEndOfGeneration = !ignoreEOS
    let generator = Generator(model: loaded.model, tokenizer: loaded.tokenizer, kvCacheType: kvCache.type)
    let result: GenerationResult
    do {
      result = try generator.generate(promptIDs: ids, options: options) { piece in
        if !json {
          FileHandle.standardOutput.write(Data(piece.utf8))
        }
      }
    } catch { throw CLIError(error) }
    if json {
      // Like llama.cpp's and vLLM's token lists, the ids end with the end-of-generation token when
      // one stopped the run (the text does not show it).
      let output = RunOutput(
        prompt_ids: result.promptIDs, generated_ids: result.generatedIDs + (result.stopTokenID.map { [$0] } ?? []),
        text: result.text,
        finish_reason: result.finishReason.rawValue, seed: options.sampling.seed, timings: result.timings)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      print(String(decoding: try encoder.encode(output), as: UTF8.self))
    } else {
      // Through the same unbuffered handle as the streamed text, so it lands before the stderr line.
      FileHandle.standardOutput.write(Data("\n".utf8))
      printError(result.timings.summary)
    }
  }
}

/// The `--json` object; field names are a contract for scripts.
struct RunOutput: Encodable {
  var prompt_ids: [Int32]
  var generated_ids: [Int32]
  var text: String
  var finish_reason: String
  /// The seed used (`--seed`, or the one drawn), so a sampled run can be repeated.
  var seed: UInt64
  var timings: GenerationTimings
}
