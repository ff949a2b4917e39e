import ArgumentParser
import Engine
import Foundation

struct Chat: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Talk with a model in the terminal (multi-turn; /reset clears, /exit or Ctrl-D leaves).")

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var kvCache: KVCacheOption
  @Option(help: "A system message for the conversation.") var system: String?
  @Option(name: .customLong("max-tokens"), help: "Most tokens per reply.") var maxTokens: Int = 512
  @OptionGroup var sampling: SamplingOptions

  func run() throws {
    let loaded = try modelOptions.load()
    let generator = Generator(model: loaded.model, tokenizer: loaded.tokenizer, kvCacheType: kvCache.type)
    let initial = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
    var messages = initial
    var options = GenerationOptions()
    options.maxTokens = maxTokens
    options.sampling = sampling.parameters
    let interactive = isatty(STDIN_FILENO) != 0
    printError("Chatting with \(loaded.model.info.name). /reset clears the conversation, /exit leaves.")
    while true {
      if interactive { FileHandle.standardOutput.write(Data("> ".utf8)) }
      guard let line = readLine() else { break }
      let input = line.trimmingCharacters(in: .whitespaces)
      if input.isEmpty { continue }
      if input == "/exit" || input == "/quit" { break }
      if input == "/reset" {
        messages = initial
        continue
      }
      messages.append(ChatMessage(role: "user", content: input))
      let ids = try loaded.template.encode(messages, tokenizer: loaded.tokenizer)
      do {
        let result = try generator.generate(promptIDs: ids, options: options) { piece in
          FileHandle.standardOutput.write(Data(piece.utf8))
        }
        FileHandle.standardOutput.write(Data("\n".utf8))
        printError("[\(result.timings.summary)]")
        messages.append(ChatMessage(role: "assistant", content: result.text))
      } catch {
        printError("error: \(error)")
        messages.removeLast()
      }
    }
  }
}
