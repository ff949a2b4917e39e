import ArgumentParser
import Engine
import Foundation
import Models
import Tokenizers

/// `peregrine bench serve`: load-tests the serving engine in-process, by the method of
/// `shared/tools/loadtest.py` (closed loop of C clients, max(4, 2C) requests per level, a ~219-token
/// prompt made unique per request, 128 output tokens, greedy, end-of-generation ignored), or with
/// Poisson arrivals at a request rate.
struct BenchServe: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve", abstract: "Measure serving throughput and latency (TTFT, TPOT, ITL, e2e) under concurrent load.")

  @OptionGroup var modelOptions: ModelOptions
  @Option(help: "Comma-separated concurrency levels (closed loop).") var concurrency = "1,4,8,16"
  @Option(name: .customLong("request-rate"), help: "Requests per second (Poisson arrivals) instead of a closed loop.")
  var requestRate: Double?
  @Option(help: "Requests in request-rate mode.") var requests = 32
  @Option(name: .customLong("max-tokens"), help: "Tokens generated per request.") var maxTokens = 128
  @Option(name: .customLong("max-batch-tokens"), help: "Engine token budget per step.") var maxBatchTokens = EngineConfiguration().maxBatchTokens
  @Option(name: .customLong("kv-cache-memory"), help: "KV cache budget in MiB (default: a quarter of free RAM, at most 2 GiB).")
  var kvCacheMemory: Int?
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
  }

  var levels: [Int] { concurrency.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

  func run() async throws {
    let loaded = try modelOptions.load()
    var config = EngineConfiguration()
    config.maxBatchTokens = maxBatchTokens
    config.prefixCaching = !noPrefixCaching
    if let mib = kvCacheMemory { config.kvCacheBytes = mib << 20 }
    config.kvCacheType = kvCacheType
    config.speculation = speculation.engineDefault()
    let draftModel = try speculation.loadDraftModel(pool: loaded.pool)
    let text: String
    if let promptFile {
      do { text = try String(contentsOfFile: promptFile, encoding: .utf8) } catch {
        throw CLIError("\(promptFile): \(error.localizedDescription)")
      }
    } else {
      text = BenchServe.basePrompt
    }
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
    var generator = LoadGenerator(engine: engine, maxTokens: maxTokens) { c, i in
      let body = "[\(tag)-c\(c)-r\(i)] " + text
      if chat, let ids = try? template.encode([ChatMessage(role: "user", content: body)], tokenizer: tokenizer) {
        return ids
      }
      return tokenizer.encode(body, addSpecial: true, parseSpecial: false)
    }
    // Warm-up, not measured.
    generator.requestsPerLevel = { _ in 1 }
    _ = await generator.closedLoop(concurrency: 1)
    generator.requestsPerLevel = { max(4, 2 * $0) }

    if let n = prefixReuse {
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
    await engine.shutdown(gracePeriod: .seconds(1))
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: try encoder.encode(results), as: UTF8.self))
    }
    if let plot {
      try SVGPlot.throughputAndTTFT(results).write(toFile: plot, atomically: true, encoding: .utf8)
    }
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
    func f(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }
    // Speculation adds two columns: accepted / drafted tokens and tokens per checking pass.
    let speculating = speculation.speculative != nil
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

/// A dependency-free SVG chart: output tokens/s (bars) and TTFT p50 (line) per load level.
enum SVGPlot {
  static func throughputAndTTFT(_ results: [LoadLevelResult]) -> String {
    let w = 640.0, h = 360.0, left = 60.0, right = 60.0, top = 30.0, bottom = 50.0
    let plotW = w - left - right, plotH = h - top - bottom
    let maxTPS = max(1, results.map(\.outputTokensPerSecond).max() ?? 1) * 1.1
    let maxTTFT = max(0.001, results.map(\.ttft.p50).filter(\.isFinite).max() ?? 1) * 1.1
    let step = plotW / Double(max(1, results.count))
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
    svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    svg += "<text x=\"\(left)\" y=\"18\">output tokens/s (bars, left) and TTFT p50 seconds (line, right)</text>\n"
    svg += "<line x1=\"\(left)\" y1=\"\(top + plotH)\" x2=\"\(left + plotW)\" y2=\"\(top + plotH)\" stroke=\"black\"/>\n"
    var points: [String] = []
    for (i, r) in results.enumerated() {
      let x = left + step * Double(i)
      let bh = plotH * r.outputTokensPerSecond / maxTPS
      svg += "<rect x=\"\(x + step * 0.2)\" y=\"\(top + plotH - bh)\" width=\"\(step * 0.6)\" height=\"\(bh)\" fill=\"#4a7ebb\"/>\n"
      svg += "<text x=\"\(x + step * 0.5)\" y=\"\(top + plotH - bh - 4)\" text-anchor=\"middle\">\(String(format: "%.0f", r.outputTokensPerSecond))</text>\n"
      let label = r.requestRate.map { String(format: "%.2f req/s", $0) } ?? "C=\(r.concurrency)"
      svg += "<text x=\"\(x + step * 0.5)\" y=\"\(top + plotH + 18)\" text-anchor=\"middle\">\(label)</text>\n"
      if r.ttft.p50.isFinite {
        points.append("\(x + step * 0.5),\(top + plotH - plotH * r.ttft.p50 / maxTTFT)")
      }
    }
    svg += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#d9534f\" stroke-width=\"2\"/>\n"
    svg += "<text x=\"\(w - right + 4)\" y=\"\(top + 10)\" fill=\"#d9534f\">\(String(format: "%.2f s", maxTTFT))</text>\n"
    svg += "<text x=\"4\" y=\"\(top + 10)\" fill=\"#4a7ebb\">\(String(format: "%.0f", maxTPS))</text>\n"
    svg += "</svg>\n"
    return svg
  }
}
