import Foundation

/// Prices in dollars per million tokens, as providers publish them.
public struct PriceTable: Sendable, Equatable, Codable {
  public var input: Double
  public var output: Double
  /// Prompt tokens served from a cache (prefix cache or result cache); defaults to `input`.
  public var cached: Double
  /// Multiplier applied to batch requests (0.5 = half price).
  public var batchDiscount: Double

  public init(input: Double, output: Double, cached: Double? = nil, batchDiscount: Double = 1) {
    self.input = input
    self.output = output
    self.cached = cached ?? input
    self.batchDiscount = batchDiscount
  }

  public static let free = PriceTable(input: 0, output: 0)

  /// Parses `input=0.10,output=0.40,cached=0.05` (any order; `cached` optional).
  public static func parse(_ text: String) throws(AccountsError) -> PriceTable {
    var values: [String: Double] = [:]
    for part in text.split(separator: ",") {
      let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      guard pair.count == 2, ["input", "output", "cached"].contains(pair[0]), let v = Double(pair[1]) else {
        throw .invalid("price '\(part)': expected input=N, output=N or cached=N with N ≥ 0 dollars per 1M tokens")
      }
      values[pair[0]] = v
    }
    return try validated(input: values["input"], output: values["output"], cached: values["cached"])
  }

  /// A table from prices read anywhere (flag text, a JSON or TOML file): both `input` and `output`
  /// present, every price finite and ≥ 0 dollars per 1M tokens.
  public static func validated(input: Double?, output: Double?, cached: Double?) throws(AccountsError) -> PriceTable {
    guard let input, let output else {
      throw .invalid("a price needs both input= and output= (dollars per 1M tokens), e.g. input=0.10,output=0.40")
    }
    for (name, v) in [("input", input), ("output", output), ("cached", cached)] {
      if let v, !(v.isFinite && v >= 0) {
        throw .invalid("price \(name)=\(v): expected a finite number ≥ 0 (dollars per 1M tokens)")
      }
    }
    return PriceTable(input: input, output: output, cached: cached)
  }

  /// What a request costs: uncached prompt tokens at `input`, cached ones at `cached`, completion
  /// tokens at `output`; batch requests at `batchDiscount` of that.
  public func cost(promptTokens: Int, cachedTokens: Int, completionTokens: Int, batch: Bool = false) -> Cost {
    let scale = (batch ? batchDiscount : 1) / 1_000_000
    let cached = min(max(cachedTokens, 0), promptTokens)
    let input = (Double(promptTokens - cached) * self.input + Double(cached) * self.cached) * scale
    let output = Double(completionTokens) * self.output * scale
    return Cost(input: input, output: output)
  }
}

/// Dollars for one request: what the price table charges for its tokens, and (when the server
/// knows what the machine costs) its share of the machine's running cost, which is what serving it
/// actually cost, not what it is billed.
public struct Cost: Sendable, Equatable, Codable {
  public var input: Double
  public var output: Double
  public var machine: Double
  /// What the caller is charged.
  public var total: Double { input + output }

  public init(input: Double, output: Double, machine: Double = 0) {
    self.input = input
    self.output = output
    self.machine = machine
  }

  public static let zero = Cost(input: 0, output: 0)
}
