import TestSupport
import Foundation
import GGUF
import Testing

/// Files built by `GGUFWriter` must read back through `GGUFFile` exactly as written: every value
/// type, both supported versions, any alignment, and tensor bytes bit for bit.
@Suite("GGUF writer round trip")
struct GGUFWriterTests {
  static let allScalars: [(String, GGUFValue)] = [
    ("v.uint8", .uint8(0xFE)),
    ("v.int8", .int8(-128)),
    ("v.uint16", .uint16(0xBEEF)),
    ("v.int16", .int16(-12345)),
    ("v.uint32", .uint32(0xDEAD_BEEF)),
    ("v.int32", .int32(Int32.min)),
    ("v.uint64", .uint64(UInt64.max)),
    ("v.int64", .int64(Int64.min + 1)),
    ("v.float32", .float32(-1.25e-7)),
    ("v.float64", .float64(Double.pi)),
    ("v.true", .bool(true)),
    ("v.false", .bool(false)),
    ("v.string", .string("héllo, 世界 🦅")),
    ("v.empty_string", .string("")),
  ]

  static let allArrays: [(String, GGUFValue)] = [
    ("a.uint8", .array(.uint8, [.uint8(0), .uint8(255)])),
    ("a.int8", .array(.int8, [.int8(-1), .int8(127)])),
    ("a.uint16", .array(.uint16, [.uint16(1)])),
    ("a.int16", .array(.int16, [.int16(-2), .int16(3)])),
    ("a.uint32", .array(.uint32, [.uint32(4_000_000_000)])),
    ("a.int32", .array(.int32, (0..<50).map { .int32(Int32($0) * -7) })),
    ("a.uint64", .array(.uint64, [.uint64(1 << 63)])),
    ("a.int64", .array(.int64, [.int64(-1)])),
    ("a.float32", .array(.float32, [.float32(0.5), .float32(-0.0), .float32(.infinity)])),
    ("a.float64", .array(.float64, [.float64(1e300)])),
    ("a.bool", .array(.bool, [.bool(true), .bool(false), .bool(true)])),
    ("a.string", .array(.string, [.string("a"), .string(""), .string("ccc")])),
    ("a.empty_string", .array(.string, [])),
    ("a.empty_float", .array(.float32, [])),
    ("a.empty_array", .array(.array, [])),
    (
      "a.nested",
      .array(
        .array,
        [
          .array(.uint8, [.uint8(1), .uint8(2)]),
          .array(.string, []),
          .array(.array, [.array(.int64, [.int64(9)]), .array(.bool, [])]),
        ])
    ),
  ]

  static func tensorBytes(_ type: GGMLType, _ shape: [Int], seed: UInt64) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    return rng.bytes(type.rowBytes(shape[0])! * shape.dropFirst().reduce(1, *))
  }

  static let tensorSpecs: [(String, GGMLType, [Int])] = [
    ("f32.vector", .f32, [7]),
    ("f16.matrix", .f16, [5, 3]),
    ("bf16.cube", .bf16, [3, 2, 2]),
    ("q8_0.matrix", .q8_0, [64, 3]),
    ("q4_0.matrix", .q4_0, [32, 5]),
    ("q4_1.4d", .q4_1, [96, 1, 2, 1]),
    ("q4_K.row", .q4_K, [256]),
    ("i8.odd", .i8, [13]),
    ("i32.pair", .i32, [2, 1]),
  ]

  static func buildFile(version: UInt32 = 3, alignment: Int = 32) throws -> [UInt8] {
    var w = GGUFWriter(version: version, alignment: alignment)
    for (key, value) in allScalars + allArrays { w.set(key, value) }
    for (i, (name, type, shape)) in tensorSpecs.enumerated() {
      try w.addTensor(name: name, type: type, shape: shape, data: tensorBytes(type, shape, seed: UInt64(i)))
    }
    return w.serialize()
  }

  static func check(_ file: GGUFFile, version: UInt32, alignment: Int) {
    #expect(file.version == version)
    #expect(file.alignment == alignment)
    #expect(file.dataOffset % alignment == 0)
    let expectedKeys = (alignment == 32 ? [] : ["general.alignment"]) + (allScalars + allArrays).map(\.0)
    #expect(file.metadata.keys == expectedKeys)
    if alignment != 32 { #expect(file.metadata["general.alignment"] == .uint32(UInt32(alignment))) }
    for (key, value) in allScalars + allArrays {
      #expect(file.metadata[key] == value, "\(key)")
    }
    #expect(file.tensors.map(\.name) == tensorSpecs.map(\.0))
    for (i, (name, type, shape)) in tensorSpecs.enumerated() {
      guard let t = file.tensor(named: name) else {
        Issue.record("missing tensor \(name)")
        continue
      }
      #expect(t.type == type)
      #expect(t.shape == shape)
      #expect(t.offset % alignment == 0)
      #expect(Array(file.data(of: t)) == tensorBytes(type, shape, seed: UInt64(i)), "\(name)")
    }
  }

  @Test("every value type and tensor type round-trips", arguments: [UInt32(2), 3], [1, 8, 32, 64, 4096])
  func roundTrip(version: UInt32, alignment: Int) throws {
    let bytes = try Self.buildFile(version: version, alignment: alignment)
    Self.check(try GGUFFile(bytes: bytes), version: version, alignment: alignment)
  }

  @Test("round trip through a file on disk")
  func roundTripThroughDisk() throws {
    let path = NSTemporaryDirectory() + "peregrine-writer-\(getpid()).gguf"
    defer { try? FileManager.default.removeItem(atPath: path) }
    var w = GGUFWriter(alignment: 64)
    for (key, value) in Self.allScalars + Self.allArrays { w.set(key, value) }
    for (i, (name, type, shape)) in Self.tensorSpecs.enumerated() {
      try w.addTensor(name: name, type: type, shape: shape, data: Self.tensorBytes(type, shape, seed: UInt64(i)))
    }
    try w.write(to: path)
    #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == w.serialize())
    Self.check(try GGUFFile(path: path), version: 3, alignment: 64)
  }

  @Test("float bit patterns survive, including NaN payloads and negative zero")
  func floatBits() throws {
    let f32Bits: [UInt32] = [0x7FC0_0001, 0xFF80_0000, 0x8000_0000, 0x0000_0001]
    let f64Bits: [UInt64] = [0x7FF8_0000_0000_0001, 0x8000_0000_0000_0000]
    var w = GGUFWriter()
    w.set("f32", .array(.float32, f32Bits.map { .float32(Float(bitPattern: $0)) }))
    w.set("f64", .array(.float64, f64Bits.map { .float64(Double(bitPattern: $0)) }))
    let file = try GGUFFile(bytes: w.serialize())
    let back32 = file.metadata["f32"]?.array?.compactMap { v -> UInt32? in
      if case .float32(let f) = v { return f.bitPattern }
      return nil
    }
    let back64 = file.metadata["f64"]?.array?.compactMap { v -> UInt64? in
      if case .float64(let f) = v { return f.bitPattern }
      return nil
    }
    #expect(back32 == f32Bits)
    #expect(back64 == f64Bits)
  }

  @Test("header bytes follow the GGUF layout exactly")
  func exactLayout() throws {
    var w = GGUFWriter(version: 3)
    w.set("k", .uint8(5))
    w.set("s", .array(.bool, [.bool(true)]))
    try w.addTensor(name: "t", type: .f32, shape: [1], data: [1, 2, 3, 4])
    let bytes = w.serialize()
    var expected: [UInt8] = Array("GGUF".utf8) + [3, 0, 0, 0]
    expected += [1, 0, 0, 0, 0, 0, 0, 0] + [2, 0, 0, 0, 0, 0, 0, 0]
    expected += [1, 0, 0, 0, 0, 0, 0, 0] + Array("k".utf8) + [0, 0, 0, 0] + [5]
    expected += [1, 0, 0, 0, 0, 0, 0, 0] + Array("s".utf8) + [9, 0, 0, 0] + [7, 0, 0, 0]
    expected += [1, 0, 0, 0, 0, 0, 0, 0] + [1]
    expected += [1, 0, 0, 0, 0, 0, 0, 0] + Array("t".utf8) + [1, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0]
    expected += [0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0]
    #expect(expected.count == 97)
    expected += [UInt8](repeating: 0, count: 128 - 97)
    expected += [1, 2, 3, 4] + [UInt8](repeating: 0, count: 28)
    #expect(bytes == expected)
  }

  @Test("a replaced key keeps its position; no tensors still gives a readable file")
  func orderingAndEmpty() throws {
    var w = GGUFWriter(version: 2)
    w.set("b", .uint8(1))
    w.set("a", .uint8(2))
    w.set("b", .string("again"))
    let file = try GGUFFile(bytes: w.serialize())
    #expect(file.metadata.keys == ["b", "a"])
    #expect(file.metadata["b"] == .string("again"))
    #expect(file.tensors.isEmpty)
    #expect(try GGUFFile(bytes: GGUFWriter().serialize()).metadata.count == 0)
  }

  @Test("tensors are laid out back to back at aligned offsets")
  func offsets() throws {
    var w = GGUFWriter(alignment: 16)
    try w.addTensor(name: "a", type: .f32, shape: [3], data: [UInt8](repeating: 1, count: 12))
    try w.addTensor(name: "b", type: .q8_0, shape: [32], data: [UInt8](repeating: 2, count: 34))
    try w.addTensor(name: "c", type: .f16, shape: [8], data: [UInt8](repeating: 3, count: 16))
    let file = try GGUFFile(bytes: w.serialize())
    #expect(file.tensors.map(\.offset) == [0, 16, 64])
    #expect(file.tensors.map(\.byteCount) == [12, 34, 16])
    #expect(file.dataSize == 80)
  }

  @Test("addTensor rejects data and shapes that do not match")
  func addTensorErrors() throws {
    var w = GGUFWriter()
    #expect(throws: GGUFWriter.Failure.wrongDataSize(tensor: "x", expected: 34 * 2, actual: 67)) {
      try w.addTensor(name: "x", type: .q8_0, shape: [32, 2], data: [UInt8](repeating: 0, count: 67))
    }
    #expect(throws: GGUFWriter.Failure.invalidShape(tensor: "x", shape: [33], type: .q4_0)) {
      try w.addTensor(name: "x", type: .q4_0, shape: [33], data: [UInt8](repeating: 0, count: 18))
    }
    #expect(throws: GGUFWriter.Failure.invalidShape(tensor: "x", shape: [], type: .f32)) {
      try w.addTensor(name: "x", type: .f32, shape: [], data: [])
    }
    #expect(throws: GGUFWriter.Failure.invalidShape(tensor: "x", shape: [4, 0], type: .f32)) {
      try w.addTensor(name: "x", type: .f32, shape: [4, 0], data: [])
    }
    #expect(throws: GGUFWriter.Failure.invalidShape(tensor: "x", shape: [1 << 40, 1 << 40], type: .f32)) {
      try w.addTensor(name: "x", type: .f32, shape: [1 << 40, 1 << 40], data: [])
    }
    try w.addTensor(name: "x", type: .f32, shape: [1], data: [0, 0, 0, 0])
    #expect(throws: GGUFWriter.Failure.duplicateTensor("x")) {
      try w.addTensor(name: "x", type: .f32, shape: [1], data: [0, 0, 0, 0])
    }
    #expect(try GGUFFile(bytes: w.serialize()).tensors.count == 1)
  }

  @Test("write(to:) reports an unwritable path")
  func unwritable() {
    #expect(throws: GGUFWriter.Failure.self) { try GGUFWriter().write(to: "/nonexistent-dir/x.gguf") }
  }
}
