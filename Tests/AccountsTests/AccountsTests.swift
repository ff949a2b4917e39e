import Foundation
import Testing

@testable import Accounts

@Suite struct SHA256Tests {
  static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

  static func bytes(hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = hex.startIndex
    while i < hex.endIndex {
      let j = hex.index(i, offsetBy: 2)
      out.append(UInt8(hex[i..<j], radix: 16)!)
      i = j
    }
    return out
  }

  @Test("FIPS 180-4 example messages, and lengths around the padding boundary")
  func nistVectors() {
    #expect(Self.hex(SHA256.hash([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(Self.hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      Self.hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    #expect(
      Self.hex(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)))
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    // 768 bytes: several blocks, every byte value.
    let all = (0..<3).flatMap { _ in (0...255).map { UInt8($0) } }
    let boundary: [Int: String] = [
      55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
      56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
      57: "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6",
      63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
      64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
      65: "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
      119: "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb",
      120: "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c",
    ]
    for (n, digest) in boundary { #expect(Self.hex(SHA256.hash([UInt8](repeating: 0x61, count: n))) == digest, "\(n)") }
    #expect(Self.hex(SHA256.hash(all)) == "f3a25aa93aa2fbba28d79260535bbd6a5eb0fc1c24a8b0f04e12b484c1dfe363")
  }

  @Test("RFC 4231 HMAC-SHA-256 test cases 1, 2, 4, 6 and 7")
  func hmacVectors() {
    let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
      (
        [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
      ),
      (
        Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
      ),
      (
        Self.bytes(hex: "0102030405060708090a0b0c0d0e0f10111213141516171819"), [UInt8](repeating: 0xcd, count: 50),
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
      ),
      (
        [UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
      ),
      (
        [UInt8](repeating: 0xaa, count: 131),
        Array(
          "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
            .utf8),
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
      ),
    ]
    for c in cases { #expect(Self.hex(SHA256.hmac(key: c.key, message: c.data)) == c.mac) }
  }
}

@Suite struct KeyDigestTests {
  @Test("key ids are stable under one secret, differ across secrets and keys, and do not contain the key")
  func keyIDs() {
    let a = KeyDigest(secret: Array(repeating: 1, count: 32))
    let b = KeyDigest(secret: Array(repeating: 2, count: 32))
    let id = a.keyID("sk-one")
    #expect(id == a.keyID("sk-one"))
    #expect(id != a.keyID("sk-two"))
    #expect(id != b.keyID("sk-one"))
    #expect(id.hasPrefix("key-") && id.count == 36)
    #expect(!id.contains("sk-one"))
    #expect(id.dropFirst(4).allSatisfy { $0.isHexDigit && !$0.isUppercase })
  }

  @Test("random secrets are 32 bytes and differ")
  func secrets() {
    let s = KeyDigest.randomSecret()
    #expect(s.count == 32)
    #expect(s != KeyDigest.randomSecret())
  }
}

@Suite struct CacheNamespaceTests {
  @Test("the shared namespace without a salt leaves blocks unsalted; anything else salts")
  func salts() {
    #expect(CacheNamespace.shared.engineSalt(requestSalt: nil) == nil)
    #expect(CacheNamespace.shared.engineSalt(requestSalt: "s") != nil)
    #expect(CacheNamespace(name: "key-1").engineSalt(requestSalt: nil) != nil)
  }

  @Test("no namespace and salt can spell another pair")
  func domainSeparation() {
    let pairs: [(String, String?)] = [
      ("ab", "c"), ("a", "bc"), ("", "ns2:ab"), ("ab", nil), ("ab|salt1:c", nil), ("", "c"), ("c", nil), ("", nil),
    ]
    let salts = pairs.map { CacheNamespace(name: $0.0).engineSalt(requestSalt: $0.1) }
    #expect(Set(salts).count == salts.count)
  }
}
