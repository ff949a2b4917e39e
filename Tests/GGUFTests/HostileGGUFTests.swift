import TestSupport
import Foundation
import GGUF
import Testing

/// A corpus of broken files derived from one valid file: every one must be refused with a
/// `GGUFError` (the right one where it matters) — never a crash, a hang or a huge allocation.
@Suite("Hostile GGUF files")
struct HostileGGUFTests {
  /// The valid file every hostile one is derived from, plus where its fields sit.
  struct Base {
    var bytes: [UInt8]
    var dataOffset: Int
    /// End of the last tensor's data within the data section.
    var dataEnd: Int

    init() {
      var w = GGUFWriter()
      w.set("general.architecture", .string("llama"))
      w.set("general.name", .string("hostile"))
      w.set("test.u32", .uint32(7))
      w.set("test.f32", .float32(1.5))
      w.set("test.bool", .bool(true))
      w.set("test.tokens", .array(.string, [.string("a"), .string("bb"), .string("ccc")]))
      w.set("test.ints", .array(.int32, [.int32(1), .int32(2), .int32(3), .int32(4)]))
      w.set("test.nested", .array(.array, [.array(.uint8, [.uint8(1), .uint8(2)]), .array(.uint8, [])]))
      w.set("test.dup1", .uint8(1))
      w.set("test.dup2", .uint8(2))
      var rng = SplitMix64(seed: 42)
      try! w.addTensor(name: "tensor_a", type: .f32, shape: [8, 3], data: rng.bytes(8 * 3 * 4))
      try! w.addTensor(name: "tensor_b", type: .q8_0, shape: [64, 2], data: rng.bytes(2 * 2 * 34))
      try! w.addTensor(name: "tensor_c", type: .q4_1, shape: [32, 3], data: rng.bytes(3 * 20))
      bytes = w.serialize()
      let file = try! GGUFFile(bytes: bytes)
      dataOffset = file.dataOffset
      dataEnd = file.tensors.map { $0.offset + $0.byteCount }.max()!
    }

    /// Offset of the only occurrence of `text` in the header.
    func position(of text: String) -> Int {
      let needle = Array(text.utf8)
      let hits = (0...(dataOffset - needle.count)).filter { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
      precondition(hits.count == 1, "'\(text)' occurs \(hits.count) times")
      return hits[0]
    }

    /// Offset of the type tag that follows the key `key`.
    func typeOffset(ofKey key: String) -> Int { position(of: key) + key.utf8.count }
    /// Offset of a tensor's dimension count (its name is followed by n_dims, dims, type, offset).
    func dimCountOffset(_ tensor: String) -> Int { position(of: tensor) + tensor.utf8.count }
    func dimOffset(_ tensor: String, _ d: Int) -> Int { dimCountOffset(tensor) + 4 + 8 * d }
    /// The base tensors all have two dimensions.
    func tensorTypeOffset(_ tensor: String) -> Int { dimOffset(tensor, 2) }
    func tensorDataOffsetField(_ tensor: String) -> Int { tensorTypeOffset(tensor) + 4 }

    func patched<T: FixedWidthInteger>(at offset: Int, _ value: T) -> [UInt8] {
      var b = bytes
      withUnsafeBytes(of: value.littleEndian) { b.replaceSubrange(offset..<(offset + $0.count), with: $0) }
      return b
    }

    func patched(at offset: Int, text: String) -> [UInt8] {
      var b = bytes
      b.replaceSubrange(offset..<(offset + text.utf8.count), with: Array(text.utf8))
      return b
    }

    func field<T: FixedWidthInteger>(at offset: Int, as _: T.Type) -> T {
      bytes[offset..<(offset + MemoryLayout<T>.size)].reversed().reduce(0) { $0 << 8 | T($1) }
    }
  }

  static let base = Base()

  static func parseError(_ bytes: [UInt8]) -> GGUFError? {
    do {
      _ = try GGUFFile(bytes: bytes)
      return nil
    } catch {
      return error
    }
  }

  /// The case name, for checks where the payload is incidental.
  static func kind(_ error: GGUFError?) -> String {
    guard let error else { return "no error" }
    return Mirror(reflecting: error).children.first?.label ?? "\(error)"
  }

  @Test("the base file is valid")
  func baseIsValid() throws {
    let file = try GGUFFile(bytes: Self.base.bytes)
    #expect(file.tensors.count == 3)
    #expect(file.metadata.count == 10)
    #expect(Self.base.dataOffset % 32 == 0)
  }

  @Test("truncated anywhere in the header")
  func truncatedHeader() {
    let b = Self.base
    for length in 0..<b.dataOffset {
      let error = Self.parseError(Array(b.bytes[..<length]))
      #expect(Self.kind(error) == "truncated", "length \(length): \(String(describing: error))")
    }
  }

  @Test("truncated inside tensor data")
  func truncatedData() {
    let b = Self.base
    for length in b.dataOffset..<(b.dataOffset + b.dataEnd) {
      let error = Self.parseError(Array(b.bytes[..<length]))
      #expect(Self.kind(error) == "tensorOutOfRange", "length \(length): \(String(describing: error))")
    }
    // Only padding after the last tensor is missing: still a complete file.
    #expect(Self.parseError(Array(b.bytes[..<(b.dataOffset + b.dataEnd)])) == nil)
  }

  @Test("truncated files on disk, empty files, directories and missing paths")
  func onDisk() throws {
    let dir = NSTemporaryDirectory() + "peregrine-hostile-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let b = Self.base
    for length in [0, 3, 23, b.dataOffset - 1, b.dataOffset + 5] {
      let path = dir + "/t\(length).gguf"
      try Data(b.bytes[..<length]).write(to: URL(fileURLWithPath: path))
      #expect(throws: GGUFError.self, "length \(length)") { try GGUFFile(path: path) }
    }
    #expect(throws: GGUFError.truncated(what: "magic", offset: 0)) { try GGUFFile(path: dir + "/t0.gguf") }
    #expect { try GGUFFile(path: dir) } throws: { error in
      if case .cannotOpen = error as? GGUFError { return true }
      return false
    }
    #expect { try GGUFFile(path: dir + "/missing.gguf") } throws: { error in
      if case .cannotOpen = error as? GGUFError { return true }
      return false
    }
  }

  @Test("wrong magic and unsupported versions")
  func magicAndVersion() {
    let b = Self.base
    #expect(Self.parseError(b.patched(at: 0, text: "GGUG")) == .notGGUF(magic: 0x4755_4747))
    #expect(Self.parseError(b.patched(at: 0, UInt32(0x4655_4747).byteSwapped)) == .notGGUF(magic: 0x4747_5546))
    for version: UInt32 in [0, 1, 4, 3 << 24, .max] {
      #expect(Self.parseError(b.patched(at: 4, version)) == .unsupportedVersion(version))
    }
  }

  @Test("absurd counts and lengths are refused before allocating")
  func absurdLengths() {
    let b = Self.base
    let name = b.position(of: "general.name")
    let nameValue = b.position(of: "hostile")
    let tokensArray = b.typeOffset(ofKey: "test.tokens") + 4  // element type, then u64 count
    let intsArray = b.typeOffset(ofKey: "test.ints") + 4
    let cases: [(String, [UInt8], String)] = [
      ("key length 2^63", b.patched(at: name - 8, UInt64(1) << 63), "limitExceeded"),
      ("string value length 2^63", b.patched(at: nameValue - 8, UInt64(1) << 63), "limitExceeded"),
      ("string value length 2^64-1", b.patched(at: nameValue - 8, UInt64.max), "limitExceeded"),
      ("string value length past the end", b.patched(at: nameValue - 8, UInt64(1 << 20)), "truncated"),
      ("array length 2^40", b.patched(at: tokensArray + 4, UInt64(1) << 40), "limitExceeded"),
      ("array length 2^22+1", b.patched(at: intsArray + 4, UInt64(1 << 22) + 1), "limitExceeded"),
      ("array length 2^22 (at the limit, more than the file holds)", b.patched(at: intsArray + 4, UInt64(1 << 22)), "truncated"),
      ("array of strings longer than the file", b.patched(at: tokensArray + 4, UInt64(1 << 16)), "truncated"),
      ("tensor count 2^40", b.patched(at: 8, UInt64(1) << 40), "limitExceeded"),
      ("tensor count 2^64-1", b.patched(at: 8, UInt64.max), "limitExceeded"),
      ("kv count 2^40", b.patched(at: 16, UInt64(1) << 40), "limitExceeded"),
      // At the limit the parser reads on into bytes that are not what it expects: any error will do.
      ("kv count 2^16 (at the limit)", b.patched(at: 16, UInt64(1 << 16)), ""),
      ("tensor count 2^16 (at the limit)", b.patched(at: 8, UInt64(1 << 16)), ""),
      ("dims count 0", b.patched(at: b.dimCountOffset("tensor_a"), UInt32(0)), "limitExceeded"),
      ("dims count 5", b.patched(at: b.dimCountOffset("tensor_a"), UInt32(5)), "limitExceeded"),
      ("dims count 2^32-1", b.patched(at: b.dimCountOffset("tensor_b"), UInt32.max), "limitExceeded"),
      ("dimension 0", b.patched(at: b.dimOffset("tensor_b", 1), UInt64(0)), "invalidShape"),
      ("dims product overflows", b.patched(at: b.dimOffset("tensor_a", 0), UInt64(1) << 62), "invalidShape"),
      ("dims product above maxElements", b.patched(at: b.dimOffset("tensor_a", 1), UInt64(1) << 38), "invalidShape"),
      ("first dim not a multiple of 32", b.patched(at: b.dimOffset("tensor_b", 0), UInt64(48)), "invalidShape"),
      ("q4_1 first dim 33", b.patched(at: b.dimOffset("tensor_c", 0), UInt64(33)), "invalidShape"),
    ]
    for (label, bytes, expected) in cases {
      let error = Self.parseError(bytes)
      if expected.isEmpty {
        #expect(error != nil, "\(label)")
      } else {
        #expect(Self.kind(error) == expected, "\(label): \(String(describing: error))")
      }
    }
    // Dims whose product wraps to a small number exactly must not be taken at face value.
    var wrap = b.patched(at: b.dimOffset("tensor_a", 0), UInt64(1) << 32)
    wrap.replaceSubrange(b.dimOffset("tensor_a", 1)..<(b.dimOffset("tensor_a", 1) + 8), with: [0, 0, 0, 0, 1, 0, 0, 0])
    #expect(Self.kind(Self.parseError(wrap)) == "invalidShape")
  }

  @Test("unknown metadata value types and tensor types")
  func unknownTypes() {
    let b = Self.base
    #expect(Self.parseError(b.patched(at: b.typeOffset(ofKey: "test.u32"), UInt32(99))) == .unknownValueType(99, key: "test.u32"))
    #expect(Self.parseError(b.patched(at: b.typeOffset(ofKey: "test.u32"), UInt32(13))) == .unknownValueType(13, key: "test.u32"))
    #expect(
      Self.parseError(b.patched(at: b.typeOffset(ofKey: "test.ints") + 4, UInt32(99)))
        == .unknownValueType(99, key: "test.ints"))
    for raw: UInt32 in [4, 5, 31, 40, 99, .max] {
      #expect(
        Self.parseError(b.patched(at: b.tensorTypeOffset("tensor_b"), raw)) == .unknownTensorType(raw, tensor: "tensor_b"))
    }
    // A valid type whose block size the row length does not fit.
    #expect(Self.kind(Self.parseError(b.patched(at: b.tensorTypeOffset("tensor_a"), GGMLType.q8_0.rawValue))) == "invalidShape")
  }

  @Test("misplaced, overlapping and duplicate tensors; duplicate keys")
  func layoutErrors() {
    let b = Self.base
    let offsetB = b.field(at: b.tensorDataOffsetField("tensor_b"), as: UInt64.self)
    let offsetC = b.field(at: b.tensorDataOffsetField("tensor_c"), as: UInt64.self)
    #expect(offsetB == 96 && offsetC == 256)
    #expect(
      Self.parseError(b.patched(at: b.tensorDataOffsetField("tensor_b"), offsetB + 4))
        == .misalignedTensor(tensor: "tensor_b", offset: offsetB + 4, alignment: 32))
    let dataSize = UInt64(b.bytes.count - b.dataOffset)
    #expect(
      Self.parseError(b.patched(at: b.tensorDataOffsetField("tensor_c"), UInt64(1 << 20)))
        == .tensorOutOfRange(tensor: "tensor_c", end: UInt64(1 << 20) + 60, dataSize: dataSize))
    // The last tensor moved so it starts inside the data but runs past the end.
    #expect(
      Self.parseError(b.patched(at: b.tensorDataOffsetField("tensor_c"), dataSize - 32))
        == .tensorOutOfRange(tensor: "tensor_c", end: dataSize - 32 + 60, dataSize: dataSize))
    for huge: UInt64 in [1 << 62, UInt64.max - 31, UInt64(Int.max) - 63] {
      #expect(Self.kind(Self.parseError(b.patched(at: b.tensorDataOffsetField("tensor_c"), huge))) == "tensorOutOfRange")
    }
    #expect(Self.kind(Self.parseError(b.patched(at: b.tensorDataOffsetField("tensor_c"), offsetB))) == "overlappingTensors")
    #expect(Self.kind(Self.parseError(b.patched(at: b.tensorDataOffsetField("tensor_b"), UInt64(64)))) == "overlappingTensors")
    #expect(Self.parseError(b.patched(at: b.position(of: "tensor_c"), text: "tensor_b")) == .duplicateTensor("tensor_b"))
    #expect(Self.parseError(b.patched(at: b.position(of: "test.dup2"), text: "test.dup1")) == .duplicateKey("test.dup1"))
  }

  @Test("invalid general.alignment", arguments: [UInt32(0), 3, 48, 1 << 20, .max])
  func invalidAlignment(_ value: UInt32) {
    var w = GGUFWriter()
    w.set("general.alignment", .uint32(value))
    try! w.addTensor(name: "t", type: .f32, shape: [4], data: [UInt8](repeating: 0, count: 16))
    #expect(Self.parseError(w.serialize()) == .invalidAlignment(UInt64(value)))
  }

  @Test("general.alignment of a non-integer type or negative value")
  func alignmentWrongType() {
    for value: GGUFValue in [.string("32"), .float32(32), .int32(-32), .bool(true)] {
      var w = GGUFWriter()
      w.set("general.alignment", value)
      #expect(Self.kind(Self.parseError(w.serialize())) == "invalidAlignment", "\(value)")
    }
  }

  @Test("array nesting at and beyond the limit")
  func nesting() throws {
    func nested(_ depth: Int) -> GGUFValue {
      var v = GGUFValue.array(.uint8, [.uint8(1)])
      for _ in 1..<depth { v = .array(.array, [v]) }
      return v
    }
    let limit = GGUFLimits.default.maxArrayNesting
    var ok = GGUFWriter()
    ok.set("deep", nested(limit))
    #expect(try GGUFFile(bytes: ok.serialize()).metadata["deep"] == nested(limit))
    for depth in [limit + 1, limit + 10] {
      var w = GGUFWriter()
      w.set("deep", nested(depth))
      #expect(Self.parseError(w.serialize()) == .nestingTooDeep(key: "deep"))
    }
  }

  @Test("invalid UTF-8 in a key, a string value and a tensor name")
  func invalidUTF8() {
    let b = Self.base
    let key = b.position(of: "test.u32")
    #expect(Self.parseError(b.patched(at: key + 2, UInt8(0xFF))) == .invalidString(offset: key - 8))
    let value = b.position(of: "hostile")
    #expect(Self.parseError(b.patched(at: value, UInt8(0xC3))) == .invalidString(offset: value - 8))
    let name = b.position(of: "tensor_a")
    #expect(Self.parseError(b.patched(at: name + 7, UInt8(0x80))) == .invalidString(offset: name - 8))
    // An overlong encoding of '/' is not valid UTF-8 either.
    var overlong = b.bytes
    overlong.replaceSubrange(key..<(key + 2), with: [0xC0, 0xAF])
    #expect(Self.parseError(overlong) == .invalidString(offset: key - 8))
  }

  @Test("random header mutations parse or throw, and accepted files stay in bounds")
  func fuzz() {
    let b = Self.base
    var rng = SplitMix64(seed: 0x6767_7566)
    var accepted = 0
    for _ in 0..<2_000 {
      var bytes = b.bytes
      for _ in 0..<Int.random(in: 1...6, using: &rng) {
        let at = Int.random(in: 0..<b.dataOffset, using: &rng)
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
        case 1: bytes[at] = UInt8.random(in: 0...255, using: &rng)
        case 2: bytes[at] = 0xFF
        default: bytes[at] = 0
        }
      }
      do {
        let file = try GGUFFile(bytes: bytes)
        accepted += 1
        #expect(file.dataOffset <= bytes.count && file.dataOffset % file.alignment == 0)
        for t in file.tensors {
          #expect(t.offset >= 0 && t.offset % file.alignment == 0)
          #expect(t.byteCount == t.type.rowBytes(t.rowLength).map { $0 * t.rowCount })
          #expect(t.offset + t.byteCount <= file.dataSize, "\(t.name)")
          #expect(file.data(of: t).count == t.byteCount)
        }
      } catch {
        // Any GGUFError is fine; typed throws guarantee nothing else escapes.
        _ = error.description
      }
    }
    // Sanity: the mutants are not all trivially rejected (e.g. at the magic).
    #expect(accepted > 0)
  }
}
