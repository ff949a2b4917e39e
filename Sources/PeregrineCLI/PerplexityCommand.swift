import ArgumentParser
import Engine
import Foundation
import Models

struct PerplexityCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "perplexity",
    abstract: "Perplexity of a text file, by llama.cpp's method; the last line is `PPL = <value> +/- <error>`.")

  @OptionGroup var modelOptions: ModelOptions
  @Option(name: .shortAndLong, help: "The text file.") var file: String
  @Option(help: "Tokens per chunk.") var ctx: Int = 512
  @Option(
    name: .customLong("kv-cache-type"),
    help: ArgumentHelp("How each chunk's keys and values are stored (the serving engine's choice).", valueName: "f16|q8_0"))
  var kvCacheType: KVCacheType = .f16

  func validate() throws {
    guard ctx >= 16 && ctx <= 1 << 20 else { throw ValidationError("--ctx must be between 16 and 1048576") }
  }

  func run() throws {
    let loaded = try modelOptions.load()
    guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
    let text = String(decoding: data, as: UTF8.self)
    guard ctx <= loaded.model.info.contextLength else {
      throw CLIError("--ctx \(ctx) exceeds the model's context length \(loaded.model.info.contextLength)")
    }
    do {
      let result = try Perplexity.evaluate(
        model: loaded.model, tokenizer: loaded.tokenizer, text: text, context: ctx, addBOS: loaded.addBOS,
        kvCacheType: kvCacheType
      ) { chunk, running in
        printError(String(format: "[%d] %.4f", chunk + 1, running))
      }
      print("\(result.chunks) chunks of \(ctx) tokens, \(result.scoredTokens) tokens scored")
      print(String(format: "PPL = %.4f +/- %.5f", result.perplexity, result.error))
    } catch { throw CLIError(error) }
  }
}
