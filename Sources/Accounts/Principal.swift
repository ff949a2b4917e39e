/// Who a request is metered as: a key from the key store, a key given on the command line, or an
/// anonymous client address. `id` is what usage rows, reservations and cache namespaces carry;
/// it never contains a secret.
public struct Principal: Sendable, Hashable {
  public enum Kind: String, Sendable, Hashable {
    /// A key created with `peregrine keys create` (id `key_…`).
    case storedKey = "stored"
    /// A key given to `serve --api-key` (id `key-…`, an HMAC of the key): unlimited.
    case staticKey = "static"
    /// No key, under `--allow-anonymous` (id `anon-…`, an HMAC of the client address).
    case anonymous
    /// No authentication configured at all: nothing is metered.
    case open
    /// The `--admin-key`: the admin routes, and every key's usage.
    case admin
  }

  public var id: String
  public var kind: Kind
  public var tier: Tier

  public init(id: String, kind: Kind, tier: Tier) {
    self.id = id
    self.kind = kind
    self.tier = tier
  }

  /// Every request of a server without keys.
  public static let open = Principal(id: "open", kind: .open, tier: .unlimited)

  /// Whether requests of this principal reserve tokens before they run.
  public var isMetered: Bool { tier.dailyTokens != nil || tier.requestsPerMinute != nil }
}
