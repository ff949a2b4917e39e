/// The part of the prefix cache a request may read and fill. Requests only share cached KV blocks
/// inside one namespace (and, within it, under one client `cache_salt`), so a tenant can neither
/// read another's prompt off its time to first token nor off `cached_tokens`.
///
/// By default each API key is its own namespace; a server may put every key in `shared` (one system
/// prompt for many keys), and requests without a key share `shared` too.
public struct CacheNamespace: Sendable, Hashable, CustomStringConvertible {
  /// Empty for `shared`; else a key id (`KeyDigest.keyID`) or another server-chosen name.
  public let name: String

  public init(name: String) { self.name = name }

  public static let shared = CacheNamespace(name: "")

  public var description: String { name.isEmpty ? "shared" : name }

  /// The engine's block-hash salt for a request in this namespace that sent `requestSalt`
  /// (vLLM's `cache_salt`); nil when neither separates anything. Both parts are length-prefixed,
  /// so no namespace and salt can spell another pair (vLLM once let a LoRA name collide with a salt).
  public func engineSalt(requestSalt: String?) -> String? {
    if name.isEmpty && requestSalt == nil { return nil }
    var salt = "ns\(name.utf8.count):" + name
    if let requestSalt { salt += "|salt\(requestSalt.utf8.count):" + requestSalt }
    return salt
  }
}
