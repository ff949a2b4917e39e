import ArgumentParser
import Engine
import Foundation
import Models
import Tokenizers

/// `peregrine bench serve`: load-tests the serving engine in-process, or a running server over HTTP
/// (`--url`, any OpenAI-compatible one, llama-server included), by one method: a closed loop of C
/// clients, max(4, 2C) requests per level, a ~219-token prompt made unique per request, 128 output
/// tokens, greedy, end-of-generation ignored; or Poisson arrivals at a request rate.
struct BenchServe: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve", abstract: "Measure serving throughput and latency (TTFT, TPOT, ITL, e2e) under concurrent load.",
    discussion: """
      Without --url the engine runs in this process on --model. With --url it drives a running server \
      (peregrine serve, llama-server, vLLM …) through streamed /v1/completions (or /v1/chat/completions \
      with --chat) requests: TTFT is the time to the first chunk carrying text, ITL the gaps between such \
      chunks, output tokens come from the usage the server reports. Engine options (--model, \
      --max-batch-tokens, --kv-cache-*, speculation) are then the server's own.
      """)

  @OptionGroup var modelOptions: ModelOptions
  @Option(help: "Drive the server at this URL (e.g. http://127.0.0.1:8080) instead of an in-process engine.")
  var url: String?
  @Option(name: .customLong("api-key"), help: "With --url: the bearer key to send (also PEREGRINE_API_KEY).")
  var apiKey: String?
  @Option(help: "Comma-separated concurrency levels (closed loop).") var concurrency = "1,4,8,16"
  @Option(name: .customLong("request-rate"), help: "Requests per second (Poisson arrivals) instead of a closed loop.")
  var requestRate: Double?
  @Option(help: "Requests in request-rate mode.") var requests = 32
  @Option(name: .customLong("max-tokens"), help: "Tokens generated per request.") var maxTokens = 128
  @Option(name: .customLong("max-batch-tokens"), help: "Engine token budget per step.") var maxBatchTokens = EngineConfiguration().maxBatchTokens
  @Option(
    name: .customLong("kv-cache-memory"), help: "KV cache size, e.g. 512MiB or 2GiB (default: a quarter of free memory, at most 2GiB).")
  var kvCacheMemory: ByteSize?
  @Option(
    name: .customLong("kv-cache-type"),
    help: ArgumentHelp("How the KV cache stores keys and values.", valueName: "f16|q8_0"))
  var kvCacheType: KVCacheType = .f16
  @Flag(name: .customLong("no-prefix-caching"), help: "Disable automatic prefix reuse.") var noPrefixCaching = false
  @Option(name: .customLong("prefix-reuse"), help: "Instead of a sweep: TTFT of a request with an N-token prompt, then of one sharing its first N tokens.")
  var prefixReuse: Int?
  @Option(
    name: .customLong("prompt-file"),
    help: "Every request's prompt is this file's text (made unique per request) instead of the built-in essay prompt.")
  var promptFile: String?
  @Flag(help: "Send the prompt as a user message through the model's chat template (default: raw text).") var chat = false
  @Flag(name: .customLong("print-prompt"), help: "Print the text every request's prompt is made from, and exit.")
  var printPrompt = false
  @OptionGroup(title: "Speculative decoding (every request)") var speculation: SpeculationFlags
  @Flag(help: "Print one JSON document instead of a table.") var json = false
  @Option(help: "Write an SVG plot of throughput and TTFT per level to this file.") var plot: String?

  static let basePrompt =
    "The history of the printing press is a story about how ideas travel. Before movable type, "
    + "books were copied by hand, which made them rare and expensive. Scribes working in monasteries "
    + "could spend months on a single volume, and errors crept in with every copy. When Johannes "
    + "Gutenberg developed a practical system of movable metal type in the fifteenth century, the cost "
    + "of producing text fell dramatically. Printers spread across Europe within a few decades, and "
    + "pamphlets, bibles, grammars and scientific treatises began to circulate in numbers never seen "
    + "before. Literacy rose, standardized spelling emerged, and scholars in distant cities could read "
    + "the same edition of a work and argue about it in letters. Historians still debate how much the "
    + "press caused the great changes that followed, from the Reformation to the scientific revolution, "
    + "but few doubt that it changed the speed at which knowledge moved. Write a detailed essay that "
    + "continues this discussion, covering the economics of early printing shops, the role of paper "
    + "mills, and the reaction of governments and churches to the flood of new printed material."

  func validate() throws {
    guard maxTokens >= 1, requests >= 1, maxBatchTokens >= 1 else { throw ValidationError("counts must be ≥ 1") }
    if let r = requestRate, !(r > 0 && r.isFinite) { throw ValidationError("--request-rate must be > 0") }
    guard !levels.isEmpty, levels.allSatisfy({ $0 >= 1 && $0 <= 1024 }) else {
      throw ValidationError("--concurrency takes numbers between 1 and 1024, e.g. 1,4,8,16")
    }
    if let kvCacheMemory, let why = ByteSize.kvCacheProblem(kvCacheMemory) { throw ValidationError(why) }
    if url != nil {
      if prefixReuse != nil { throw ValidationError("--prefix-reuse measures the in-process engine; drop --url") }
      if kvCacheMemory != nil || speculation.speculative != nil || speculation.draftModel != nil {
        throw ValidationError(
          "--kv-cache-memory, --speculative and --draft-model configure the in-process engine; with --url they are the server's")
      }
    }
  }

  var levels: [Int] { concurrency.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

  func run() async throws {
    let text = try promptText()
    if printPrompt {
      print(text)
      return
    }
    var generator: LoadGenerator
    var inProcess: (engine: InferenceEngine, tokenizer: Tokenizer)? = nil
    if let url {
      generator = try serverLoad(url: url, text: text)
    } else {
      let made = try engineLoad(text: text)
      generator = made.generator
      inProcess = (made.engine, made.tokenizer)
    }
    // Warm-up, not measured.
    generator.requestsPerLevel = { _ in 1 }
    _ = await generator.closedLoop(concurrency: 1)
    generator.requestsPerLevel = { max(4, 2 * $0) }

    if let n = prefixReuse, let (engine, tokenizer) = inProcess {
      try await measurePrefixReuse(engine: engine, tokens: n, tokenizer: tokenizer)
      await engine.shutdown(gracePeriod: .seconds(1))
      return
    }
    var results: [LoadLevelResult] = []
    if let rate = requestRate {
      results.append(await generator.poisson(rate: rate, count: requests))
      if !json { printRow(results[0], header: true) }
    } else {
      for (i, c) in levels.enumerated() {
        let r = await generator.closedLoop(concurrency: c)
        results.append(r)
        if !json { printRow(r, header: i == 0) }
      }
    }
    if let engine = inProcess?.engine { await engine.shutdown(gracePeriod: .seconds(1)) }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: try encoder.encode(results), as: UTF8.self))
    }
    if let plot {
      try SVGPlot.throughputAndTTFT(results).write(toFile: plot, atomically: true, encoding: .utf8)
    }
  }

  /// The text every request's prompt is made from.
  func promptText() throws -> String {
    guard let promptFile else { return BenchServe.basePrompt }
    do { return try String(contentsOfFile: promptFile, encoding: .utf8) } catch {
      throw CLIError("\(promptFile): \(error.localizedDescription)")
    }
  }

  /// Request `index` of the level at `concurrency`: the text behind a tag that makes it unique.
  static func requestText(_ text: String, tag: Substring, concurrency: Int, index: Int) -> String {
    "[\(tag)-c\(concurrency)-r\(index)] " + text
  }

  /// The in-process engine on --model, and the load generator that drives it.
  func engineLoad(text: String) throws -> (generator: LoadGenerator, engine: InferenceEngine, tokenizer: Tokenizer) {
    let loaded = try modelOptions.load()
    var config = EngineConfiguration()
    config.maxBatchTokens = maxBatchTokens
    config.prefixCaching = !noPrefixCaching
    config.kvCacheBytes = kvCacheMemory?.bytes
    config.kvCacheType = kvCacheType
    config.speculation = speculation.engineDefault()
    let draftModel = try speculation.loadDraftModel(pool: loaded.pool)
    let template = loaded.template
    let chat = chat
    let engine: InferenceEngine
    do {
      engine = try InferenceEngine(
        model: loaded.model, tokenizer: loaded.tokenizer, configuration: config, draftModel: draftModel)
    } catch {
      throw CLIError(error)
    }
    let tokenizer = loaded.tokenizer
    let tag = UUID().uuidString.prefix(8)
    let generator = LoadGenerator(engine: engine, maxTokens: maxTokens) { c, i in
      let body = BenchServe.requestText(text, tag: tag, concurrency: c, index: i)
      if chat, let ids = try? template.encode([ChatMessage(role: "user", content: body)], tokenizer: tokenizer) {
        return ids
      }
      return tokenizer.encode(body, addSpecial: true, parseSpecial: false)
    }
    return (generator, engine, tokenizer)
  }

  /// Two requests whose prompts share their first `tokens` tokens: the second's TTFT shows the
  /// prefix cache at work.
  func measurePrefixReuse(engine: InferenceEngine, tokens: Int, tokenizer: Tokenizer) async throws {
    var text = ""
    var shared: [Int32] = []
    while shared.count < tokens {
      text += BenchServe.basePrompt + " "
      shared = tokenizer.encode(text, addSpecial: true, parseSpecial: false)
    }
    shared = Array(shared.prefix(tokens))
    var ttfts: [Double] = []
    for suffix in [" First question: who printed the first book?", " Second question: what did paper cost?"] {
      let ids = shared + tokenizer.encode(suffix, addSpecial: false, parseSpecial: false)
      let start = ContinuousClock.now
      let stream: AsyncStream<EngineEvent>
      do { stream = try engine.submit(EngineRequest(promptIDs: ids, maxTokens: 8, ignoreEndOfGeneration: true)) } catch {
        throw CLIError(error)
      }
      var first: Double? = nil
      var cached = 0
      for await event in stream {
        switch event {
        case .token: if first == nil { first = (ContinuousClock.now - start).seconds }
        case .finished(let c): cached = c.cachedPromptTokens
        }
      }
      ttfts.append(first ?? .nan)
      print("prompt \(ids.count) tokens, \(cached) from the prefix cache, TTFT \(String(format: "%.3f", first ?? .nan)) s")
    }
    print("second TTFT / first TTFT = \(String(format: "%.1f", 100 * ttfts[1] / ttfts[0])) %")
  }

  func printRow(_ r: LoadLevelResult, header: Bool) {
    // A figure the server does not report (llama-server has no queue time) shows as "-".
    func f(_ v: Double, _ digits: Int = 1) -> String { v.isFinite ? String(format: "%.\(digits)f", v) : "-" }
    // Speculation adds two columns: accepted / drafted tokens and tokens per checking pass.
    let speculating = speculation.speculative != nil || speculation.draftModel != nil || r.acceptanceRate != nil
    if header {
      print(
        "| C | rate | reqs | ok | out tok/s | TTFT p50 s | TTFT p95 s | TPOT p50 ms | ITL p50 ms | ITL p95 ms | e2e p50 s | queue p50 s |"
          + (speculating ? " accept % | tok/pass |" : ""))
      print("|---|---|---|---|---|---|---|---|---|---|---|---|" + (speculating ? "---|---|" : ""))
    }
    print(
      "| \(r.concurrency) | \(r.requestRate.map { f($0, 2) } ?? "-") | \(r.requests) | \(r.completed) | \(f(r.outputTokensPerSecond)) | "
        + "\(f(r.ttft.p50, 3)) | \(f(r.ttft.p95, 3)) | \(f(r.tpot.p50 * 1e3)) | \(f(r.itl.p50 * 1e3)) | \(f(r.itl.p95 * 1e3)) | "
        + "\(f(r.e2e.p50, 2)) | \(f(r.queue.p50, 3)) |"
        + (speculating ? " \(f((r.acceptanceRate ?? 0) * 100)) | \(f(r.meanAcceptedLength ?? 1, 2)) |" : ""))
    fflush(stdout)
  }
}
