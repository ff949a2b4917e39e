import Foundation
import Templates
import Testing

/// `JSONValue.decodeKeepingOrder`: the `JSONValue`s inside a decoded request keep the client's member
/// order (a template prints tools and call arguments with `tojson`), where a plain `JSONDecoder`
/// sorts them.
@Suite struct JSONDocumentOrderTests {
  struct Tool: Decodable {
    var name: String
    var parameters: JSONValue
  }
  struct Body: Decodable {
    var tools: [Tool]
    var arguments: JSONValue
    var list: JSONValue
  }

  static let text = #"""
    {"tools": [{"name": "a", "parameters": {"type": "object", "required": ["z", "b"],
                "properties": {"z": {"type": "string"}, "b": {"type": "integer"}}}},
               {"parameters": {"y": 1, "x": [{"q": 1, "p": 2}]}, "name": "b"}],
     "arguments": {"unit": "celsius", "city": "Paris"},
     "list": [{"k": 1, "j": 2}, 3]}
    """#

  static func keys(_ v: JSONValue?) -> [String] {
    guard case .object(let members)? = v else { return [] }
    return members.map(\.key)
  }

  @Test func membersKeepDocumentOrderAtEveryDepth() throws {
    let body = try JSONValue.decodeKeepingOrder(Body.self, from: Data(Self.text.utf8))
    #expect(Self.keys(body.tools[0].parameters) == ["type", "required", "properties"])
    #expect(Self.keys(body.tools[0].parameters["properties"]) == ["z", "b"])
    #expect(Self.keys(body.tools[1].parameters) == ["y", "x"])
    guard case .array(let x)? = body.tools[1].parameters["x"] else {
      Issue.record("x is not an array")
      return
    }
    #expect(Self.keys(x.first) == ["q", "p"])
    #expect(Self.keys(body.arguments) == ["unit", "city"])
    guard case .array(let list) = body.list else {
      Issue.record("list is not an array")
      return
    }
    #expect(Self.keys(list.first) == ["k", "j"])
    #expect(list.last == .number(3))
    // The same values as a plain decode, which sorts: only the order differs.
    let plain = try JSONDecoder().decode(Body.self, from: Data(Self.text.utf8))
    #expect(Self.keys(plain.tools[0].parameters) == ["properties", "required", "type"])
    #expect(Self.keys(plain.arguments) == ["city", "unit"])
    #expect(plain.arguments["city"] == body.arguments["city"] && plain.arguments["unit"] == body.arguments["unit"])
  }

  @Test func aDocumentThatDoesNotMatchFallsBackToSortedKeys() throws {
    // A decoder given a document whose shape differs at the coding path decodes as a plain one does.
    let decoder = JSONDecoder()
    decoder.userInfo[.jsonDocument] = try JSONValue(parsing: #"{"arguments": [1, 2]}"#)
    struct Only: Decodable { var arguments: JSONValue }
    let only = try decoder.decode(Only.self, from: Data(#"{"arguments": {"b": 1, "a": 2}}"#.utf8))
    #expect(Self.keys(only.arguments) == ["a", "b"])
  }

  @Test func invalidJSONStillFailsAsJSONDecoderDoes() {
    #expect(throws: DecodingError.self) {
      _ = try JSONValue.decodeKeepingOrder(Body.self, from: Data(#"{"tools": [}"#.utf8))
    }
  }
}
