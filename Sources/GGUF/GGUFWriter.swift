#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Builds GGUF files in memory: small synthetic models for tests, and tools that convert or
/// rewrite models.
///
/// Metadata keeps insertion order. Tensors are laid out in the order they are added, each at an
/// offset that is a multiple of `alignment`. The writer does not second-guess metadata it is given
/// (a caller may set `general.alignment` to a value that disagrees with the layout), so tests can
/// build deliberately inconsistent files.
public struct GGUFWriter: Sendable {
  /// Why a tensor or a file could not be written.
  public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
    /// `shape` is empty, has a dimension below 1, or its first dimension is not a whole number of
    /// blocks of `type`.
    case invalidShape(tensor: String, shape: [Int], type: GGMLType)
    /// `data` does not hold exactly the bytes `shape` and `type` call for.
    case wrongDataSize(tensor: String, expected: Int, actual: Int)
    case duplicateTensor(String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
      switch self {
      case .invalidShape(let name, let shape, let type): "tensor '\(name)' of type \(type) cannot have shape \(shape)"
      case .wrongDataSize(let name, let expected, let actual):
        "tensor '\(name)' needs \(expected) bytes of data, got \(actual)"
      case .duplicateTensor(let name): "tensor '\(name)' added twice"
      case .cannotWrite(let path, let reason): "cannot write \(path): \(reason)"
      }
    }
  }

  private struct PendingTensor: Sendable {
    var name: String
    var type: GGMLType
    var shape: [Int]
    var data: [UInt8]
  }

  public let version: UInt32
  public let alignment: Int
  public private(set) var metadata = GGUFMetadata()
  private var tensors: [PendingTensor] = []
  private var tensorNames = Set<String>()

  /// - Parameters:
  ///   - version: written as-is, so tests can produce files of versions the reader refuses.
  ///   - alignment: a power of two; anything but the GGUF default of 32 is recorded as
  ///     `general.alignment` (uint32) so readers lay the data section out the same way.
  public init(version: UInt32 = 3, alignment: Int = 32) {
    precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment must be a power of two")
    self.version = version
    self.alignment = alignment
    if alignment != 32 { metadata.set("general.alignment", .uint32(UInt32(alignment))) }
  }

  /// Adds or replaces a metadata entry; a replaced key keeps its original position.
  ///
  /// Array elements must all be of the array's declared element type (a programming error
  /// otherwise, since the file would be unreadable).
  public mutating func set(_ key: String, _ value: GGUFValue) {
    precondition(Self.isWellTyped(value), "array elements of '\(key)' do not match the declared element type")
    metadata.set(key, value)
  }

  /// Appends a tensor. `shape` is in ggml order (`shape[0]` is the row length) and `data` must be
  /// exactly the encoded bytes of that many elements of `type`.
  public mutating func addTensor(name: String, type: GGMLType, shape: [Int], data: [UInt8]) throws(Failure) {
    guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }), let rowBytes = type.rowBytes(shape[0]) else {
      throw .invalidShape(tensor: name, shape: shape, type: type)
    }
    var expected = rowBytes
    for d in shape.dropFirst() {
      let (product, overflow) = expected.multipliedReportingOverflow(by: d)
      guard !overflow else { throw .invalidShape(tensor: name, shape: shape, type: type) }
      expected = product
    }
    guard data.count == expected else { throw .wrongDataSize(tensor: name, expected: expected, actual: data.count) }
    guard tensorNames.insert(name).inserted else { throw .duplicateTensor(name) }
    tensors.append(PendingTensor(name: name, type: type, shape: shape, data: data))
  }

  /// The complete file.
  public func serialize() -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(headerSizeEstimate + tensors.reduce(0) { $0 + $1.data.count + alignment })
    append(GGUFFile.magic, to: &out)
    append(version, to: &out)
    append(UInt64(tensors.count), to: &out)
    append(UInt64(metadata.count), to: &out)
    for key in metadata.keys {
      let value = metadata[key]!
      appendString(key, to: &out)
      append(value.type.rawValue, to: &out)
      appendValue(value, to: &out)
    }
    var offset = 0
    var offsets: [Int] = []
    for t in tensors {
      offsets.append(offset)
      appendString(t.name, to: &out)
      append(UInt32(t.shape.count), to: &out)
      for d in t.shape { append(UInt64(d), to: &out) }
      append(t.type.rawValue, to: &out)
      append(UInt64(offset), to: &out)
      offset = padded(offset + t.data.count)
    }
    // Readers locate the data section by aligning the end of the header, even with no tensors.
    out.append(contentsOf: repeatElement(0, count: padded(out.count) - out.count))
    let dataStart = out.count
    for (t, start) in zip(tensors, offsets) {
      assert(out.count - dataStart == start)
      out.append(contentsOf: t.data)
      out.append(contentsOf: repeatElement(0, count: padded(t.data.count) - t.data.count))
    }
    return out
  }

  /// Writes `serialize()` to `path`, replacing any existing file.
  public func write(to path: String) throws(Failure) {
    let bytes = serialize()
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + done, $0.count - done) }
      if n < 0 {
        if errno == EINTR { continue }
        throw .cannotWrite(path: path, reason: String(cString: strerror(errno)))
      }
      done += n
    }
  }

  // MARK: - Encoding

  private var headerSizeEstimate: Int { 64 + metadata.count * 32 + tensors.count * 96 }

  private func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

  private func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
  }

  private func appendString(_ s: String, to out: inout [UInt8]) {
    let utf8 = Array(s.utf8)
    append(UInt64(utf8.count), to: &out)
    out.append(contentsOf: utf8)
  }

  private func appendValue(_ value: GGUFValue, to out: inout [UInt8]) {
    switch value {
    case .uint8(let v): append(v, to: &out)
    case .int8(let v): append(v, to: &out)
    case .uint16(let v): append(v, to: &out)
    case .int16(let v): append(v, to: &out)
    case .uint32(let v): append(v, to: &out)
    case .int32(let v): append(v, to: &out)
    case .uint64(let v): append(v, to: &out)
    case .int64(let v): append(v, to: &out)
    case .float32(let v): append(v.bitPattern, to: &out)
    case .float64(let v): append(v.bitPattern, to: &out)
    case .bool(let v): out.append(v ? 1 : 0)
    case .string(let s): appendString(s, to: &out)
    case .array(let type, let items):
      append(type.rawValue, to: &out)
      append(UInt64(items.count), to: &out)
      for item in items { appendValue(item, to: &out) }
    }
  }

  private static func isWellTyped(_ value: GGUFValue) -> Bool {
    guard case .array(let type, let items) = value else { return true }
    return items.allSatisfy { $0.type == type && isWellTyped($0) }
  }
}

/// The C `write`, reachable from inside `GGUFWriter` whose own `write(to:)` shadows it.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
  write(fd, buffer, count)
}
