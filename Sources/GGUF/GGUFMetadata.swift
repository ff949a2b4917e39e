/// The key-value header of a GGUF file, in file order, with typed lookups.
public struct GGUFMetadata: Sendable {
  public private(set) var keys: [String] = []
  private var values: [String: GGUFValue] = [:]

  public init() {}

  public subscript(key: String) -> GGUFValue? { values[key] }

  public var count: Int { keys.count }

  /// Adds or replaces a value, keeping the original position of an existing key.
  public mutating func set(_ key: String, _ value: GGUFValue) {
    if values.updateValue(value, forKey: key) == nil { keys.append(key) }
  }

  mutating func insertNew(_ key: String, _ value: GGUFValue) throws(GGUFError) {
    guard values[key] == nil else { throw .duplicateKey(key) }
    set(key, value)
  }

  public func int(_ key: String) throws(GGUFError) -> Int {
    guard let value = values[key] else { throw .missingMetadata(key) }
    guard let v = value.int else { throw .wrongMetadataType(key: key, expected: "an integer") }
    return v
  }

  public func float(_ key: String) throws(GGUFError) -> Float {
    guard let value = values[key] else { throw .missingMetadata(key) }
    guard let v = value.float else { throw .wrongMetadataType(key: key, expected: "a number") }
    return v
  }

  public func string(_ key: String) throws(GGUFError) -> String {
    guard let value = values[key] else { throw .missingMetadata(key) }
    guard let v = value.string else { throw .wrongMetadataType(key: key, expected: "a string") }
    return v
  }
}
