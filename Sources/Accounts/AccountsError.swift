import Foundation

/// What the accounts layer refuses, with a message a user can act on.
public enum AccountsError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The request would take more tokens than the principal has left.
  case insufficientQuota(QuotaStatus, requested: Int)
  /// Too many requests in the last minute.
  case rateLimited(QuotaStatus)
  case unknownKey(String)
  case unknownTier(String, known: [String])
  case invalid(String)
  case database(String)

  public var description: String {
    switch self {
    case .insufficientQuota(let s, let requested):
      let left = s.remainingTokens.map(String.init) ?? "unlimited"
      var text = "This request needs up to \(requested) tokens (prompt + max_tokens) but only \(left) are left"
      if let limit = s.limitTokens { text += " of your \(limit)-token daily allowance" }
      if s.packTokens > 0 { text += " (including \(s.packTokens) prepaid tokens)" }
      text += "."
      if let reset = s.tokensResetAt {
        text += " More become available in \(QuotaStatus.duration(reset.timeIntervalSince(s.now)))"
        text += " (\(ISO8601DateFormatter().string(from: reset)))."
      }
      text += " Lower max_tokens, wait, or top up the key."
      return text
    case .rateLimited(let s):
      let limit = s.limitRequests.map(String.init) ?? "?"
      let wait = s.requestsResetAt.map { QuotaStatus.duration($0.timeIntervalSince(s.now)) } ?? "a moment"
      return "Rate limit of \(limit) requests per minute reached; retry in \(wait)."
    case .unknownKey(let id): return "No key with id '\(id)'."
    case .unknownTier(let name, let known): return "No tier '\(name)'; tiers: \(known.joined(separator: ", "))."
    case .invalid(let why): return why
    case .database(let why): return "accounts database: \(why)"
    }
  }
}
