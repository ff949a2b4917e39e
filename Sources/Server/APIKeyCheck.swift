import Accounts

/// Bearer-token checking, and what a key stands for once checked: the non-secret id usage records
/// carry and the prefix-cache namespace its requests live in.
struct APIKeyCheck: Sendable {
  let keys: [String]
  let digest: KeyDigest
  /// Every key's cache namespace is `CacheNamespace.shared` instead of its own.
  let sharedCache: Bool
  private let ids: [String: String]

  /// - Parameter digest: keyed with the usage database's secret, so ids are stable across restarts.
  init(keys: [String], digest: KeyDigest = KeyDigest(secret: KeyDigest.randomSecret()), sharedCache: Bool = false) {
    self.keys = keys
    self.digest = digest
    self.sharedCache = sharedCache
    var ids: [String: String] = [:]
    for key in keys { ids[key] = digest.keyID(key) }
    self.ids = ids
  }

  var enabled: Bool { !keys.isEmpty }

  /// The key presented in an `Authorization` header value, if it is one of ours. The scheme is
  /// matched without regard to case (RFC 9110), as OpenAI's servers do.
  func matchingKey(authorization: String?) -> String? {
    guard let authorization else { return nil }
    let prefix = "Bearer "
    guard authorization.count > prefix.count, authorization.lowercased().hasPrefix(prefix.lowercased()) else {
      return nil
    }
    let presented = Array(authorization.dropFirst(prefix.count).utf8)
    return keys.first { Self.constantTimeEqual(Array($0.utf8), presented) }
  }

  /// The id of one of our keys (`KeyDigest.keyID`).
  func keyID(_ key: String) -> String { ids[key] ?? digest.keyID(key) }

  /// Where the requests of a caller with this key id (nil: no key) may share cached prompt blocks.
  func cacheNamespace(keyID: String?) -> CacheNamespace {
    guard let keyID, !sharedCache else { return .shared }
    return CacheNamespace(name: keyID)
  }

  /// Compares without returning early, so response time does not reveal how much of a key matched.
  static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
    for i in 0..<max(a.count, b.count) {
      diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
    }
    return diff == 0
  }
}
