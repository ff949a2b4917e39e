/// The on-disk type tags of GGUF metadata values.
public enum GGUFValueType: UInt32, Sendable {
  case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
  case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

  /// Smallest number of bytes one value of this type occupies in a file; used to reject array
  /// lengths that the remaining bytes could never hold before allocating anything.
  var minimumEncodedSize: Int {
    switch self {
    case .uint8, .int8, .bool: 1
    case .uint16, .int16: 2
    case .uint32, .int32, .float32: 4
    case .uint64, .int64, .float64, .string: 8
    case .array: 12
    }
  }
}

/// One metadata value: a scalar, a string or a (possibly nested) array.
public enum GGUFValue: Sendable, Equatable {
  case uint8(UInt8)
  case int8(Int8)
  case uint16(UInt16)
  case int16(Int16)
  case uint32(UInt32)
  case int32(Int32)
  case uint64(UInt64)
  case int64(Int64)
  case float32(Float)
  case float64(Double)
  case bool(Bool)
  case string(String)
  /// Element type plus elements; the type is kept so empty arrays round-trip.
  case array(GGUFValueType, [GGUFValue])

  public var type: GGUFValueType {
    switch self {
    case .uint8: .uint8
    case .int8: .int8
    case .uint16: .uint16
    case .int16: .int16
    case .uint32: .uint32
    case .int32: .int32
    case .uint64: .uint64
    case .int64: .int64
    case .float32: .float32
    case .float64: .float64
    case .bool: .bool
    case .string: .string
    case .array: .array
    }
  }

  /// Any integer value as `Int` (nil if it does not fit or is not an integer).
  public var int: Int? {
    switch self {
    case .uint8(let v): Int(v)
    case .int8(let v): Int(v)
    case .uint16(let v): Int(v)
    case .int16(let v): Int(v)
    case .uint32(let v): Int(v)
    case .int32(let v): Int(v)
    case .uint64(let v): Int(exactly: v)
    case .int64(let v): Int(v)
    default: nil
    }
  }

  /// Any numeric value as `Double`.
  public var double: Double? {
    switch self {
    case .float32(let v): Double(v)
    case .float64(let v): v
    default: int.map(Double.init)
    }
  }

  public var float: Float? { double.map(Float.init) }

  public var bool: Bool? {
    if case .bool(let v) = self { return v }
    return nil
  }

  public var string: String? {
    if case .string(let v) = self { return v }
    return nil
  }

  public var array: [GGUFValue]? {
    if case .array(_, let v) = self { return v }
    return nil
  }

  public var stringArray: [String]? { array?.compactMap(\.string) }
  public var intArray: [Int]? { array?.compactMap(\.int) }
  public var floatArray: [Float]? { array?.compactMap(\.float) }
}

extension GGUFValue: CustomStringConvertible {
  /// A short rendering for `inspect`; long arrays are summarised.
  public var description: String {
    switch self {
    case .string(let s): return s.count > 120 ? "\"\(s.prefix(117))...\"" : "\"\(s)\""
    case .array(let t, let items):
      let head = items.prefix(6).map(\.description).joined(separator: ", ")
      return items.count > 6 ? "[\(head), ... (\(items.count) \(t))]" : "[\(head)]"
    case .bool(let v): return String(v)
    case .float32(let v): return String(v)
    case .float64(let v): return String(v)
    default: return int.map(String.init) ?? "?"
    }
  }
}
