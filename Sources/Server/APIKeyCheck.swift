/// Bearer-token checking, and the non-secret id of a key that usage records carry.
struct APIKeyCheck: Sendable {
  let keys: [String]

  var enabled: Bool { !keys.isEmpty }

  /// The key presented in an `Authorization` header value, if it is one of ours.
  func matchingKey(authorization: String?) -> String? {
    guard let authorization else { return nil }
    let prefix = "Bearer "
    guard authorization.count > prefix.count, authorization.lowercased().hasPrefix(prefix.lowercased()) else {
      return nil
    }
    let presented = Array(authorization.dropFirst(prefix.count).utf8)
    return keys.first { Self.constantTimeEqual(Array($0.utf8), presented) }
  }

  /// Compares without returning early, so response time does not reveal how much of a key matched.
  static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
    for i in 0..<max(a.count, b.count) {
      diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
    }
    return diff == 0
  }

  /// A short stable id for a key (FNV-1a 64 of its bytes): enough to tell keys apart in usage
  /// records without storing the secret.
  static func keyID(_ key: String) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in key.utf8 {
      h ^= UInt64(b)
      h = h &* 0x0000_0100_0000_01B3
    }
    let hex = String(h, radix: 16)
    return "key-" + String(repeating: "0", count: 16 - hex.count) + hex
  }
}
