import Foundation

extension Metering {
  /// The economics lines of `/metrics`, in the text exposition format: result-cache hits and
  /// misses, dollars billed, the machine's cost and what an output token costs to serve.
  func metricsText(modelName: String) -> String {
    let cache = results.statistics
    let t = snapshot
    let label = "{model_name=\"\(modelName.replacingOccurrences(of: "\"", with: "'"))\"}"
    var lines: [String] = []
    func add(_ name: String, _ type: String, _ help: String, _ value: Double) {
      lines.append("# HELP \(name) \(help)")
      lines.append("# TYPE \(name) \(type)")
      lines.append("\(name)\(label) \(value)")
    }
    add("peregrine_result_cache_hits_total", "counter", "Requests answered from the result cache.", Double(cache.hits))
    add(
      "peregrine_result_cache_misses_total", "counter", "Cacheable requests the result cache could not answer.",
      Double(cache.misses))
    add("peregrine_result_cache_entries", "gauge", "Results held by the result cache.", Double(cache.entries))
    add("peregrine_result_cache_bytes", "gauge", "Approximate bytes held by the result cache.", Double(cache.bytes))
    add(
      "peregrine_quota_refusals_total", "counter", "Requests refused for an exhausted allowance or rate limit.",
      Double(t.refusals))
    add("peregrine_billed_dollars_total", "counter", "Dollars charged by the price table.", t.billedDollars)
    if let perHour = settings.machineCostPerHour {
      let machine = clock.busySeconds * perHour / 3600
      add(
        "peregrine_machine_cost_dollars_total", "counter",
        "Machine cost (--machine-cost-per-hour) of the time spent serving requests.", machine)
      add(
        "peregrine_machine_cost_per_million_output_tokens", "gauge",
        "Machine cost of serving per million output tokens since start (0 before any).",
        t.outputTokens > 0 ? machine / Double(t.outputTokens) * 1_000_000 : 0)
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
