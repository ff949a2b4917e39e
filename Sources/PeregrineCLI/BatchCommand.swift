import ArgumentParser
import Engine
import Foundation
import Logging
import Server

/// `peregrine batch`: OpenAI batch files without a server.
struct BatchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "batch", abstract: "Run OpenAI Batch API input files without a server.",
    subcommands: [BatchRun.self])
}

/// `peregrine batch run --model M INPUT.jsonl -o OUTPUT.jsonl`: the same JSONL as /v1/batches takes
/// and writes, one output line per request (errors included), resumable by running it again.
struct BatchRun: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Run a batch input file (JSONL of {custom_id, method, url, body}) to an output file.",
    discussion: """
      Lines are appended to OUTPUT as they finish, each synced to disk first. Running the same command \
      again after an interruption skips every custom_id already in OUTPUT, so each appears exactly once.
      """)

  @OptionGroup var modelOptions: ModelOptions
  @Argument(help: "The batch input file (JSONL).") var input: String
  @Option(name: .shortAndLong, help: "Where to write the output lines (appended to on a re-run).") var output: String
  @Option(name: .customLong("concurrency"), help: "Requests in flight at once (batched in each step).")
  var concurrency = 8
  @Option(name: .customLong("kv-cache-memory"), help: "KV cache size, e.g. 512MiB (default: chosen from free memory).")
  var kvCacheMemory: ByteSize?
  @Flag(name: .customLong("no-progress"), help: "Do not draw the progress bar on stderr.") var noProgress = false

  func validate() throws {
    guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be 1–256") }
    if let kvCacheMemory, let why = ByteSize.kvCacheProblem(kvCacheMemory) { throw ValidationError(why) }
  }

  func run() async throws {
    let loaded = try modelOptions.load()
    var settings = EngineConfiguration()
    settings.kvCacheBytes = kvCacheMemory?.bytes
    let engine: InferenceEngine
    do {
      engine = try InferenceEngine(
        model: loaded.model, tokenizer: loaded.tokenizer, configuration: settings,
        logger: Logger(label: "peregrine.engine"))
    } catch { throw CLIError(error) }
    var batch = OfflineBatch(
      served: ServedModel(engine: engine, template: loaded.template), modelName: modelOptions.displayName)
    batch.concurrency = concurrency
    let drawBar = !noProgress
    let summary: OfflineBatch.Summary
    do {
      summary = try await batch.run(
        input: URL(fileURLWithPath: input), output: URL(fileURLWithPath: output),
        progress: { done, total in if drawBar { Self.draw(done, total) } })
    } catch { throw CLIError("\(error)") }
    await engine.shutdown(gracePeriod: .seconds(1))
    if drawBar { FileHandle.standardError.write(Data("\n".utf8)) }
    printError(
      "\(summary.total) requests: \(summary.resumed) already in \(output), \(summary.succeeded) succeeded, \(summary.failed) failed")
  }

  /// `[#####.....]  250/500` on one stderr line.
  static func draw(_ done: Int, _ total: Int) {
    let width = 30
    let filled = total == 0 ? width : done * width / total
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
    FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total)".utf8))
  }
}
