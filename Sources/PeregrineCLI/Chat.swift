import ArgumentParser
import Engine
import Foundation

struct Chat: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Talk with a model in the terminal (multi-turn; /reset clears, /exit or Ctrl-D leaves).",
    discussion: """
      Line editing as in a shell: arrows, Home/End, Ctrl-A/E/B/F/K/U/W, Alt-B/F, and Up/Down for \
      earlier lines. Ctrl-C stops a reply and keeps the conversation; at the prompt it clears the line. \
      Each session samples with a fresh seed (shown in the banner) unless --seed is given.
      """)

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var kvCache: KVCacheOption
  @Option(help: "A system message for the conversation.") var system: String?
  @Option(name: .customLong("max-tokens"), help: "Most tokens per reply.") var maxTokens: Int = 512
  @OptionGroup var sampling: SamplingOptions

  func validate() throws {
    guard maxTokens >= 1 && maxTokens <= 1 << 20 else { throw ValidationError("--max-tokens must be between 1 and 1048576") }
  }

  func run() throws {
    let loaded = try modelOptions.load()
    let generator = Generator(model: loaded.model, tokenizer: loaded.tokenizer, kvCacheType: kvCache.type)
    let initial = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
    var messages = initial
    let sessionSeed = sampling.seed ?? .random(in: 0...UInt64.max)
    var options = GenerationOptions()
    options.maxTokens = maxTokens
    options.sampling = sampling.parameters(loaded.samplingDefaults, seed: sessionSeed)
    let interrupt = ReplyInterrupt()
    options.shouldStop = { interrupt.isRequested }
    let sigint = interrupt.install()
    defer { sigint.cancel() }

    let reader = LineReader()
    printError(
      "Chatting with \(modelOptions.displayName) (seed \(sessionSeed)). /reset clears the conversation, /exit or "
        + "Ctrl-D leaves, Ctrl-C stops a reply.")
    var turn: UInt64 = 0
    while true {
      let input: String
      switch reader.read(prompt: "> ") {
      case .endOfInput: return
      case .interrupted(let hadText):
        if !hadText { printError("(/exit or Ctrl-D leaves)") }
        continue
      case .line(let line): input = line.trimmingCharacters(in: .whitespaces)
      }
      if input.isEmpty { continue }
      switch input {
      case "/exit", "/quit", "/bye": return
      case "/reset", "/clear":
        messages = initial
        printError("Conversation cleared\(initial.isEmpty ? "" : " (the system message stays)").")
        continue
      case "/help", "/?":
        printError("/reset clears the conversation, /exit leaves; Ctrl-C stops a reply.")
        continue
      default: break
      }
      messages.append(ChatMessage(role: "user", content: input))
      // One seed per session; each turn draws from its own stream of it, so a repeated question
      // need not get the same answer while the whole session stays reproducible.
      options.sampling.seed = sessionSeed &+ turn &* 0x9E37_79B9_7F4A_7C15
      turn += 1
      do {
        let ids = try loaded.template.encode(messages, tokenizer: loaded.tokenizer)
        interrupt.begin()
        defer { interrupt.end() }
        let result = try generator.generate(promptIDs: ids, options: options) { piece in
          FileHandle.standardOutput.write(Data(piece.utf8))
        }
        FileHandle.standardOutput.write(Data("\n".utf8))
        if result.finishReason == .abort { printError("[stopped]") }
        printError("[\(result.timings.summary)]")
        // A stopped reply stays in the conversation as far as it got, as chat front-ends keep it.
        messages.append(ChatMessage(role: "assistant", content: result.text))
      } catch {
        printError("error: \(error)")
        messages.removeLast()
      }
    }
  }
}

/// Ctrl-C while a reply is generated stops that reply; at any other time (input not from a
/// terminal, model still loading a prompt it cannot stop) it ends the program as usual.
final class ReplyInterrupt: @unchecked Sendable {
  private let lock = NSLock()
  private var generating = false
  private var requested = false

  var isRequested: Bool { lock.withLock { requested } }

  func begin() { lock.withLock { (generating, requested) = (true, false) } }
  func end() { lock.withLock { (generating, requested) = (false, false) } }

  /// Takes over SIGINT; the returned source must stay alive (cancel it to stop).
  func install() -> DispatchSourceSignal {
    signal(SIGINT, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "peregrine.chat.sigint"))
    source.setEventHandler { [self] in
      let stopping = lock.withLock {
        if generating { requested = true }
        return generating
      }
      if !stopping {
        FileHandle.standardError.write(Data("\n".utf8))
        exit(130)
      }
    }
    source.resume()
    return source
  }
}
