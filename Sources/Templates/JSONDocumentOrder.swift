import Foundation

extension CodingUserInfoKey {
  /// The document a `JSONDecoder` is decoding, parsed with `JSONValue(parsing:)`. With it in the
  /// decoder's `userInfo`, every object or array `JSONValue` decoded from the document is taken from
  /// this parse, members in document order; without it they come out with sorted keys, because
  /// `JSONDecoder` reports an object's keys in no fixed order.
  public static let jsonDocument = CodingUserInfoKey(rawValue: "peregrine.jsonDocument")!
}

extension JSONValue {
  /// Decodes `type` from JSON text with every `JSONValue` inside it in document order: a tool's
  /// parameters or a history call's arguments as the client wrote them, which a chat template
  /// prints with `tojson`. Errors are `JSONDecoder`'s.
  public static func decodeKeepingOrder<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
    try decodeKeepingDocument(type, from: data).value
  }

  /// `decodeKeepingOrder`, also returning the whole document as parsed in order (nil when it does
  /// not parse), for a caller that reads the body's members itself.
  public static func decodeKeepingDocument<T: Decodable>(_ type: T.Type, from data: Data) throws -> (
    value: T, document: JSONValue?
  ) {
    let decoder = JSONDecoder()
    let document = try? JSONValue(parsing: String(decoding: data, as: UTF8.self))
    if let document { decoder.userInfo[.jsonDocument] = document }
    return (try decoder.decode(type, from: data), document)
  }

  /// The object or array at `decoder`'s coding path in the document it was given (`jsonDocument`),
  /// or nil without one, or when the path does not lead to an object or array there.
  static func documentTwin(for decoder: any Decoder) -> JSONValue? {
    guard var node = decoder.userInfo[.jsonDocument] as? JSONValue else { return nil }
    for key in decoder.codingPath {
      switch node {
      case .object:
        guard let next = node[key.stringValue] else { return nil }
        node = next
      case .array(let items):
        guard let i = key.intValue, items.indices.contains(i) else { return nil }
        node = items[i]
      default:
        return nil
      }
    }
    switch node {
    case .object, .array: return node
    default: return nil
    }
  }
}
