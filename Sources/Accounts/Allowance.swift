import Foundation

/// The arithmetic of one principal's allowance at one moment, free of storage so it can be tested
/// directly: how much is left, whether a reservation fits, and how a settled charge splits
/// between the daily allowance and prepaid tokens.
public struct Allowance: Sendable, Equatable {
  public static let window: TimeInterval = 24 * 3600
  public static let requestWindow: TimeInterval = 60

  public var tier: Tier
  public var now: Date
  /// Tokens taken from the daily allowance by requests that finished in the last 24 hours.
  public var usedDaily: Int
  /// When the oldest of those charges was made (it leaves the window 24 hours later).
  public var oldestChargeAt: Date?
  /// Tokens held by requests still running.
  public var reserved: Int
  /// Prepaid tokens left.
  public var pack: Int
  /// Requests that arrived in the last minute (finished or running), and the oldest arrival.
  public var recentRequests: Int
  public var oldestRequestAt: Date?

  public init(
    tier: Tier, now: Date, usedDaily: Int = 0, oldestChargeAt: Date? = nil, reserved: Int = 0, pack: Int = 0,
    recentRequests: Int = 0, oldestRequestAt: Date? = nil
  ) {
    self.tier = tier
    self.now = now
    self.usedDaily = usedDaily
    self.oldestChargeAt = oldestChargeAt
    self.reserved = reserved
    self.pack = pack
    self.recentRequests = recentRequests
    self.oldestRequestAt = oldestRequestAt
  }

  /// What is left of today's allowance, before reservations.
  var dailyLeft: Int? { tier.dailyTokens.map { max(0, $0 - usedDaily) } }

  public var status: QuotaStatus {
    QuotaStatus(
      now: now, limitTokens: tier.dailyTokens,
      remainingTokens: dailyLeft.map { max(0, $0 + pack - reserved) },
      tokensResetAt: tier.dailyTokens == nil ? nil : oldestChargeAt.map { $0.addingTimeInterval(Self.window) },
      packTokens: pack, limitRequests: tier.requestsPerMinute,
      remainingRequests: tier.requestsPerMinute.map { max(0, $0 - recentRequests) },
      requestsResetAt: tier.requestsPerMinute == nil
        ? nil : oldestRequestAt.map { $0.addingTimeInterval(Self.requestWindow) })
  }

  /// Whether a request that may use `tokens` can start now.
  public func admit(tokens: Int) -> AccountsError? {
    let s = status
    if let remaining = s.remainingRequests, remaining < 1 { return .rateLimited(s) }
    if let remaining = s.remainingTokens, tokens > remaining { return .insufficientQuota(s, requested: tokens) }
    return nil
  }

  /// How a finished request's `tokens` are charged: from the daily allowance first, then from
  /// prepaid tokens. A charge beyond both (possible only for unmetered work) stays on the daily side.
  public func split(charge tokens: Int) -> (daily: Int, pack: Int) {
    guard let left = dailyLeft else { return (tokens, 0) }
    let fromPack = min(max(0, tokens - left), pack)
    return (tokens - fromPack, fromPack)
  }
}
