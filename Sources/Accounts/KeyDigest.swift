import Foundation

/// Non-secret stand-ins for API keys: the id usage records carry, and the prefix-cache namespace a
/// key's requests live in. Both are HMAC-SHA-256 of the key under a per-database secret, so the
/// database never holds a key, an id cannot be checked against a guessed key without the secret,
/// and ids stay stable across restarts of the same database.
///
/// The seed of the `Accounts` layer: a key store (tiers, allowances) takes a `KeyDigest` built
/// from its database's secret and uses `keyID(_:)` as the key's public id.
public struct KeyDigest: Sendable, Equatable {
  /// 32 random bytes; keep them with the records whose ids they made.
  public let secret: [UInt8]

  public init(secret: [UInt8]) {
    precondition(!secret.isEmpty, "KeyDigest: empty secret")
    self.secret = secret
  }

  /// A fresh secret from the system's cryptographic generator.
  public static func randomSecret() -> [UInt8] {
    var rng = SystemRandomNumberGenerator()
    return (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
  }

  /// `key-` and 32 hex digits (128 bits of the HMAC): stable for this secret, unrelated across secrets.
  public func keyID(_ key: String) -> String {
    let mac = SHA256.hmac(key: secret, message: Array("peregrine key id\u{0}".utf8) + Array(key.utf8))
    return "key-" + mac.prefix(16).map { byte in
      let hex = String(byte, radix: 16)
      return byte < 16 ? "0" + hex : hex
    }.joined()
  }

  /// `anon-` and 32 hex digits for a client address: anonymous callers are metered per address
  /// without the address itself being stored.
  public func clientID(_ address: String) -> String {
    let mac = SHA256.hmac(key: secret, message: Array("peregrine client id\u{0}".utf8) + Array(address.utf8))
    return "anon-" + mac.prefix(16).map { String(format: "%02x", $0) }.joined()
  }
}
