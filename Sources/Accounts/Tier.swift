/// A named daily token allowance. `dailyTokens == nil` means unlimited.
public struct Tier: Sendable, Hashable, Codable {
  public var name: String
  /// Tokens (prompt + completion) a principal may use in any rolling 24-hour window; nil = no limit.
  public var dailyTokens: Int?
  /// Requests a principal may start in any rolling minute; nil = no limit.
  public var requestsPerMinute: Int?

  public init(name: String, dailyTokens: Int?, requestsPerMinute: Int? = nil) {
    self.name = name
    self.dailyTokens = dailyTokens
    self.requestsPerMinute = requestsPerMinute
  }

  public static let anonymous = Tier(name: "anonymous", dailyTokens: 2_500)
  public static let free = Tier(name: "free", dailyTokens: 5_000)
  public static let unlimited = Tier(name: "unlimited", dailyTokens: nil)

  /// The tiers a new database starts with.
  public static let defaults: [Tier] = [.anonymous, .free, .unlimited]
}
