/// Parses and validates the header (magic, version, metadata, tensor table) of a GGUF file.
enum GGUFHeaderParser {
  struct Header {
    var version: UInt32
    var metadata: GGUFMetadata
    var tensors: [GGUFTensorInfo]
    var alignment: Int
    var dataOffset: Int
  }

  static let defaultAlignment = 32

  static func parse(_ bytes: UnsafeRawBufferPointer, limits: GGUFLimits) throws(GGUFError) -> Header {
    var r = GGUFByteReader(bytes)
    let magic = try r.read(UInt32.self, "magic")
    guard magic == GGUFFile.magic else { throw .notGGUF(magic: magic) }
    let version = try r.read(UInt32.self, "version")
    guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }
    let tensorCount = try r.read(UInt64.self, "tensor count")
    guard tensorCount <= UInt64(limits.maxTensorCount) else {
      throw .limitExceeded(what: "tensor count", value: tensorCount, limit: UInt64(limits.maxTensorCount))
    }
    let kvCount = try r.read(UInt64.self, "metadata count")
    guard kvCount <= UInt64(limits.maxMetadataCount) else {
      throw .limitExceeded(what: "metadata count", value: kvCount, limit: UInt64(limits.maxMetadataCount))
    }

    var metadata = GGUFMetadata()
    for i in 0..<Int(kvCount) {
      let key = try r.readString("key of metadata entry \(i)", limits: limits)
      let rawType = try r.read(UInt32.self, "type of '\(key)'")
      guard let type = GGUFValueType(rawValue: rawType) else { throw .unknownValueType(rawType, key: key) }
      let value = try readValue(type, key: key, depth: 0, reader: &r, limits: limits)
      try metadata.insertNew(key, value)
    }

    var alignment = defaultAlignment
    if let value = metadata["general.alignment"] {
      guard let a = value.int, a > 0, a <= 65536, a & (a - 1) == 0 else {
        throw .invalidAlignment(UInt64(truncatingIfNeeded: value.int ?? 0))
      }
      alignment = a
    }

    var tensors: [GGUFTensorInfo] = []
    tensors.reserveCapacity(Int(tensorCount))
    var names = Set<String>()
    for i in 0..<Int(tensorCount) {
      let tensor = try readTensorInfo(index: i, reader: &r, limits: limits, alignment: alignment)
      guard names.insert(tensor.name).inserted else { throw .duplicateTensor(tensor.name) }
      tensors.append(tensor)
    }

    r.align(to: alignment)
    // A file with no tensors may end right after its header, without padding.
    let dataOffset = min(r.offset, bytes.count)
    if !tensors.isEmpty && r.offset > bytes.count {
      throw .truncated(what: "padding before tensor data", offset: bytes.count)
    }
    try validateRanges(tensors, dataSize: UInt64(bytes.count - dataOffset))
    return Header(version: version, metadata: metadata, tensors: tensors, alignment: alignment, dataOffset: dataOffset)
  }

  private static func readValue(
    _ type: GGUFValueType, key: String, depth: Int, reader r: inout GGUFByteReader, limits: GGUFLimits
  ) throws(GGUFError) -> GGUFValue {
    switch type {
    case .uint8: return .uint8(try r.read(UInt8.self, "value of '\(key)'"))
    case .int8: return .int8(try r.read(Int8.self, "value of '\(key)'"))
    case .uint16: return .uint16(try r.read(UInt16.self, "value of '\(key)'"))
    case .int16: return .int16(try r.read(Int16.self, "value of '\(key)'"))
    case .uint32: return .uint32(try r.read(UInt32.self, "value of '\(key)'"))
    case .int32: return .int32(try r.read(Int32.self, "value of '\(key)'"))
    case .uint64: return .uint64(try r.read(UInt64.self, "value of '\(key)'"))
    case .int64: return .int64(try r.read(Int64.self, "value of '\(key)'"))
    case .float32: return .float32(Float(bitPattern: try r.read(UInt32.self, "value of '\(key)'")))
    case .float64: return .float64(Double(bitPattern: try r.read(UInt64.self, "value of '\(key)'")))
    case .bool:
      let b = try r.read(UInt8.self, "value of '\(key)'")
      return .bool(b != 0)
    case .string: return .string(try r.readString("value of '\(key)'", limits: limits))
    case .array:
      guard depth < limits.maxArrayNesting else { throw .nestingTooDeep(key: key) }
      let rawType = try r.read(UInt32.self, "array type of '\(key)'")
      guard let elementType = GGUFValueType(rawValue: rawType) else { throw .unknownValueType(rawType, key: key) }
      let count = try r.read(UInt64.self, "array length of '\(key)'")
      guard count <= UInt64(limits.maxArrayLength) else {
        throw .limitExceeded(what: "array length of '\(key)'", value: count, limit: UInt64(limits.maxArrayLength))
      }
      // Refuse lengths the rest of the file cannot hold before reserving memory for them.
      guard count * UInt64(elementType.minimumEncodedSize) <= UInt64(r.remaining) else {
        throw .truncated(what: "array '\(key)' of \(count) elements", offset: r.offset)
      }
      var items: [GGUFValue] = []
      items.reserveCapacity(Int(count))
      for _ in 0..<Int(count) {
        items.append(try readValue(elementType, key: key, depth: depth + 1, reader: &r, limits: limits))
      }
      return .array(elementType, items)
    }
  }

  private static func readTensorInfo(
    index: Int, reader r: inout GGUFByteReader, limits: GGUFLimits, alignment: Int
  ) throws(GGUFError) -> GGUFTensorInfo {
    let name = try r.readString("name of tensor \(index)", limits: limits)
    let dimCount = try r.read(UInt32.self, "dimension count of '\(name)'")
    guard dimCount >= 1, dimCount <= UInt32(limits.maxDimensions) else {
      throw .limitExceeded(what: "dimension count of '\(name)'", value: UInt64(dimCount), limit: UInt64(limits.maxDimensions))
    }
    var dims: [UInt64] = []
    for d in 0..<Int(dimCount) { dims.append(try r.read(UInt64.self, "dimension \(d) of '\(name)'")) }
    let rawType = try r.read(UInt32.self, "type of '\(name)'")
    guard let type = GGMLType(rawValue: rawType) else { throw .unknownTensorType(rawType, tensor: name) }
    let offset = try r.read(UInt64.self, "data offset of '\(name)'")

    var elements: UInt64 = 1
    for d in dims {
      guard d > 0 else { throw .invalidShape(tensor: name, shape: dims) }
      let (product, overflow) = elements.multipliedReportingOverflow(by: d)
      guard !overflow, product <= limits.maxElementsPerTensor else { throw .invalidShape(tensor: name, shape: dims) }
      elements = product
    }
    guard dims[0] % UInt64(type.blockSize) == 0 else { throw .invalidShape(tensor: name, shape: dims) }
    guard offset % UInt64(alignment) == 0 else {
      throw .misalignedTensor(tensor: name, offset: offset, alignment: alignment)
    }
    let byteCount = elements / UInt64(type.blockSize) * UInt64(type.typeSize)
    guard offset <= UInt64(Int.max / 2) else {
      throw .tensorOutOfRange(tensor: name, end: offset, dataSize: 0)
    }
    return GGUFTensorInfo(
      name: name, type: type, shape: dims.map { Int($0) }, offset: Int(offset), byteCount: Int(byteCount))
  }

  private static func validateRanges(_ tensors: [GGUFTensorInfo], dataSize: UInt64) throws(GGUFError) {
    for t in tensors {
      let end = UInt64(t.offset) + UInt64(t.byteCount)
      guard end <= dataSize else { throw .tensorOutOfRange(tensor: t.name, end: end, dataSize: dataSize) }
    }
    let sorted = tensors.sorted { $0.offset < $1.offset }
    for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.byteCount > b.offset {
      throw .overlappingTensors(a.name, b.name)
    }
  }
}
