import Foundation

/// A principal's allowance at one moment: what OpenAI's `x-ratelimit-*` headers report.
public struct QuotaStatus: Sendable, Equatable {
  public var now: Date
  /// The daily allowance; nil when the tier has none.
  public var limitTokens: Int?
  /// Tokens that can still be reserved: what is left of the rolling 24-hour allowance, plus
  /// prepaid tokens, minus reservations of requests still running. Nil when unlimited.
  public var remainingTokens: Int?
  /// When the oldest charge in the window leaves it (more tokens become available); nil if none.
  public var tokensResetAt: Date?
  /// Prepaid tokens, used after the daily allowance.
  public var packTokens: Int
  public var limitRequests: Int?
  public var remainingRequests: Int?
  public var requestsResetAt: Date?

  public init(
    now: Date, limitTokens: Int? = nil, remainingTokens: Int? = nil, tokensResetAt: Date? = nil, packTokens: Int = 0,
    limitRequests: Int? = nil, remainingRequests: Int? = nil, requestsResetAt: Date? = nil
  ) {
    self.now = now
    self.limitTokens = limitTokens
    self.remainingTokens = remainingTokens
    self.tokensResetAt = tokensResetAt
    self.packTokens = packTokens
    self.limitRequests = limitRequests
    self.remainingRequests = remainingRequests
    self.requestsResetAt = requestsResetAt
  }

  /// OpenAI's rate-limit headers (names and duration format as api.openai.com sends them).
  public var headers: [(name: String, value: String)] {
    var out: [(String, String)] = []
    if let limitTokens, let remainingTokens {
      out.append(("x-ratelimit-limit-tokens", String(limitTokens)))
      out.append(("x-ratelimit-remaining-tokens", String(remainingTokens)))
      out.append(("x-ratelimit-reset-tokens", Self.duration(tokensResetAt.map { $0.timeIntervalSince(now) } ?? 0)))
    }
    if let limitRequests, let remainingRequests {
      out.append(("x-ratelimit-limit-requests", String(limitRequests)))
      out.append(("x-ratelimit-remaining-requests", String(remainingRequests)))
      out.append(
        ("x-ratelimit-reset-requests", Self.duration(requestsResetAt.map { $0.timeIntervalSince(now) } ?? 0)))
    }
    return out
  }

  /// Seconds until the client may retry: the token or request reset, at least 1.
  public var retryAfterSeconds: Int {
    let waits = [tokensResetAt, requestsResetAt].compactMap { $0?.timeIntervalSince(now) }
    return max(1, Int((waits.max() ?? 1).rounded(.up)))
  }

  /// A duration as OpenAI writes it: `20ms`, `1s`, `6m0s`, `1h2m3s`.
  public static func duration(_ seconds: TimeInterval) -> String {
    let s = max(0, seconds)
    if s < 1 { return "\(Int((s * 1000).rounded(.up)))ms" }
    let whole = Int(s.rounded(.up))
    let (h, m, sec) = (whole / 3600, whole % 3600 / 60, whole % 60)
    if h > 0 { return "\(h)h\(m)m\(sec)s" }
    if m > 0 { return "\(m)m\(sec)s" }
    return "\(sec)s"
  }
}
