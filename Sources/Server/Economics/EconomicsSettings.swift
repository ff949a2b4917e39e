import Accounts

/// What `serve` meters and charges. Data only; the CLI fills it from flags.
public struct EconomicsSettings: Sendable {
  /// Bearer token of the admin API (`/v1/admin/…`) and of everyone's usage.
  public var adminKey: String?
  /// Requests without a key run under the `anonymous` tier, metered per client address.
  public var allowAnonymous = false
  /// Overrides the `anonymous` tier's daily allowance.
  public var anonymousDailyTokens: Int?
  /// Dollars per million tokens; nil leaves `usage.cost` out.
  public var prices: PriceTable?
  /// What the machine costs to run; each request's share of it is reported as `cost.machine`.
  public var machineCostPerHour: Double?
  /// Bytes of finished results the result cache keeps (0 turns it off).
  public var resultCacheBytes = 64 << 20
  /// Seconds a cached result stays valid.
  public var resultCacheTTL: Double = 3600

  public init() {}
}
