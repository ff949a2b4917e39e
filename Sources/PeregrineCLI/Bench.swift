import ArgumentParser
import Foundation
import GGUF
import Kernels
import KernelsC
import Models

/// `peregrine bench`: prompt-processing (pp) and token-generation (tg) speed, as llama-bench
/// measures them, so the two can be compared on the same file and threads.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kernels",
    abstract: "Measure prefill (pp) and decode (tg) speed in tokens/s, llama-bench style.",
    discussion: """
      ppN processes N random tokens as one batch in a fresh sequence; tgN generates N tokens one at a \
      time from an empty sequence. Each test runs once to warm up, then -r times; the table gives \
      mean ± standard deviation. For tg it adds the weight bytes read per second and their share of \
      the read bandwidth measured by a built-in probe on the same threads.
      """)

  @OptionGroup var modelOptions: ModelOptions
  @Option(name: .customShort("p"), help: "Prompt lengths, comma separated (0 or empty: no pp test).")
  var prompts: String = "512"
  @Option(name: .customShort("n"), help: "Tokens to generate (0: no tg test).") var generate: Int = 128
  @Option(name: .customShort("r"), help: "Timed repetitions per test.") var repetitions: Int = 5
  @Flag(help: "Print one JSON array, one object per test.") var json = false

  func validate() throws {
    guard repetitions >= 1 && repetitions <= 1000 else { throw ValidationError("-r must be between 1 and 1000") }
    guard generate >= 0 && generate <= 1 << 20 else { throw ValidationError("-n must be between 0 and 1048576") }
    guard promptLengths != nil else { throw ValidationError("-p takes comma-separated non-negative integers") }
  }

  var promptLengths: [Int]? {
    var lengths: [Int] = []
    for part in prompts.split(separator: ",") {
      guard let n = Int(part.trimmingCharacters(in: .whitespaces)), n >= 0 else { return nil }
      if n > 0 { lengths.append(n) }
    }
    return lengths
  }

  func run() throws {
    let loaded = try modelOptions.load()
    let model = loaded.model
    let info = model.info
    for n in promptLengths ?? [] where n > info.contextLength {
      throw CLIError("-p \(n) exceeds the model's context length \(info.contextLength)")
    }
    guard generate <= info.contextLength else {
      throw CLIError("-n \(generate) exceeds the model's context length \(info.contextLength)")
    }
    let streamed = weightBytesPerToken(loaded.file)
    let bandwidth = generate > 0 ? measureReadBandwidth(pool: ThreadPool(threadCount: modelOptions.threads)) : 0
    var rng = SystemRandomNumberGenerator()
    var results: [BenchResult] = []
    let base = BenchResult(
      model: info.name, model_bytes: loaded.file.bytes.count, threads: modelOptions.threads, isa: isaName(pg_isa()))

    for n in promptLengths ?? [] {
      let tokens = (0..<n).map { _ in Int32.random(in: 0..<Int32(info.vocabularySize), using: &rng) }
      var samples: [Double] = []
      for rep in 0...repetitions {
        let state = model.makeState(maxTokens: n)
        let start = DispatchTime.now().uptimeNanoseconds
        do { _ = try model.forward(tokens, state: state, logits: .last) } catch { throw CLIError(error) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if rep > 0 { samples.append(Double(n) / seconds) }  // the first run warms caches and pages
      }
      var r = base
      r.test = "pp\(n)"
      r.set(samples)
      results.append(r)
    }

    if generate > 0 {
      var samples: [Double] = []
      for rep in 0...repetitions {
        let state = model.makeState(maxTokens: generate)
        var token = Int32.random(in: 0..<Int32(info.vocabularySize), using: &rng)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<generate {
          let logits: Logits
          do { logits = try model.forward([token], state: state, logits: .last) } catch { throw CLIError(error) }
          // Feed back a cheap function of the output so every step depends on the previous one.
          token = Int32(truncatingIfNeeded: logits.values[0].bitPattern % UInt32(info.vocabularySize))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if rep > 0 { samples.append(Double(generate) / seconds) }
      }
      var r = base
      r.test = "tg\(generate)"
      r.set(samples)
      r.weight_bytes_per_token = streamed
      r.weight_bytes_per_second = Double(streamed) * r.tokens_per_second
      r.read_bandwidth = bandwidth
      r.bandwidth_share = bandwidth > 0 ? Double(streamed) * r.tokens_per_second / bandwidth : nil
      results.append(r)
    }

    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      print(String(decoding: try encoder.encode(results), as: UTF8.self))
      return
    }
    // Cost of one empty parallel region on this pool (what ~150 regions per token pay).
    let probePool = ThreadPool(threadCount: modelOptions.threads)
    let regions = 20000
    probePool.parallelFor(probePool.threadCount) { _ in }
    let dispatchStart = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<regions { probePool.parallelFor(probePool.threadCount) { _ in } }
    let dispatch = Double(DispatchTime.now().uptimeNanoseconds - dispatchStart) / Double(regions) / 1000
    print("| model | size | threads | isa | test | t/s | weights GB/s | of read bw |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    for r in results {
      let size = String(format: "%.1f MiB", Double(r.model_bytes) / 1048576)
      let speed = String(format: "%.2f ± %.2f", r.tokens_per_second, r.stddev)
      let gbs = r.weight_bytes_per_second.map { String(format: "%.1f", $0 / 1e9) } ?? ""
      let share = r.bandwidth_share.map { String(format: "%.0f %% of %.1f GB/s", $0 * 100, bandwidth / 1e9) } ?? ""
      print("| \(r.model) | \(size) | \(r.threads) | \(r.isa) | \(r.test) | \(speed) | \(gbs) | \(share) |")
    }
    print(String(format: "\nthread pool: %.2f µs per empty parallel region (%d threads)", dispatch, probePool.threadCount))
  }

  /// Bytes of weights a decode step reads: every matrix, except the token embedding when a separate
  /// output matrix exists (then only one embedding row is read per token), and of a mixture of
  /// experts' 3-D expert tensors only the share of the experts a token uses.
  func weightBytesPerToken(_ file: GGUFFile) -> Int {
    let hasOutput = file.tensor(named: "output.weight") != nil
    let arch = (try? file.metadata.string("general.architecture")) ?? ""
    let experts = (try? file.metadata.int(arch + ".expert_count")) ?? 0
    let used = (try? file.metadata.int(arch + ".expert_used_count")) ?? experts
    return file.tensors.reduce(0) { sum, t in
      if t.name == "token_embd.weight" && hasOutput { return sum + t.byteCount / max(1, t.rowCount) }
      if experts > 0 && t.name.hasSuffix("_exps.weight") { return sum + t.byteCount / experts * used }
      return sum + t.byteCount
    }
  }

  func isaName(_ level: Int32) -> String {
    switch level {
    case 2: "avx512-vnni"
    case 1: "avx2"
    default: "generic"
    }
  }
}

/// One test's result; field names are a contract for scripts (add fields, never rename).
struct BenchResult: Encodable {
  var test = ""
  var tokens_per_second = 0.0
  var stddev = 0.0
  var threads: Int
  var model: String
  var model_bytes: Int
  var isa: String
  var runs = 0
  var samples: [Double] = []
  var weight_bytes_per_token: Int?
  var weight_bytes_per_second: Double?
  var read_bandwidth: Double?
  var bandwidth_share: Double?

  init(model: String, model_bytes: Int, threads: Int, isa: String) {
    self.model = model
    self.model_bytes = model_bytes
    self.threads = threads
    self.isa = isa
  }

  mutating func set(_ values: [Double]) {
    samples = values
    runs = values.count
    let mean = values.reduce(0, +) / Double(max(1, values.count))
    tokens_per_second = mean
    let variance =
      values.count > 1 ? values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1) : 0
    stddev = variance.squareRoot()
  }
}
