import Templates

/// A small validator for the schema subset the constraint supports, as the test oracle; it also
/// checks that properties come in the order the constraint keeps (the schema's).
public func validates(_ v: JSONValue, _ schema: JSONValue, root: JSONValue) -> Bool {
  guard case .object = schema else { return schema == .bool(true) }
  if case .string(let ref)? = schema["$ref"] {
    let parts = ref.split(separator: "/").map(String.init)
    guard let target = root[parts[1]]?[parts[2]] else { return false }
    return validates(v, target, root: root)
  }
  if schema["nullable"] == .bool(true), v == .null { return true }
  if let c = schema["const"] { return c == v }
  if case .array(let values)? = schema["enum"] { return values.contains(v) }
  for k in ["anyOf", "oneOf"] {
    if case .array(let alternatives)? = schema[k] { return alternatives.contains { validates(v, $0, root: root) } }
  }
  if case .array(let all)? = schema["allOf"] { return all.allSatisfy { validates(v, $0, root: root) } }
  var types: [String] = []
  switch schema["type"] {
  case .string(let t)?: types = [t]
  case .array(let list)?: types = list.compactMap(\.stringValue)
  default: types = ["object", "array", "string", "number", "boolean", "null"]
  }
  switch v {
  case .null: return types.contains("null")
  case .bool: return types.contains("boolean")
  case .string: return types.contains("string")
  case .number(let d): return types.contains("number") || (types.contains("integer") && d == d.rounded())
  case .array(let items):
    guard types.contains("array") else { return false }
    if case .number(let m)? = schema["minItems"], Double(items.count) < m { return false }
    if case .number(let m)? = schema["maxItems"], Double(items.count) > m { return false }
    let itemSchema = schema["items"] ?? .bool(true)
    return items.allSatisfy { validates($0, itemSchema, root: root) }
  case .object(let members):
    guard types.contains("object") else { return false }
    if Set(members.map(\.key)).count != members.count { return false }
    var required: [String] = []
    if case .array(let names)? = schema["required"] { required = names.compactMap(\.stringValue) }
    for r in required where !members.contains(where: { $0.key == r }) { return false }
    // Order: declared properties as the schema lists them (then required ones it does not declare),
    // additional ones after those and after every required one.
    var declared: [String] = []
    if case .object(let p)? = schema["properties"] { declared = p.map(\.key) }
    declared += required.filter { !declared.contains($0) }
    var last = -1
    var additional = false
    for (i, m) in members.enumerated() {
      if let rank = declared.firstIndex(of: m.key) {
        if additional || rank <= last { return false }
        last = rank
      } else {
        let earlier = Set(members[..<i].map(\.key))
        if !required.allSatisfy(earlier.contains) { return false }
        additional = true
      }
    }
    for m in members {
      if let p = schema["properties"]?[m.key] {
        if !validates(m.value, p, root: root) { return false }
      } else {
        let extra = schema["additionalProperties"] ?? .bool(true)
        if extra == .bool(false) || !validates(m.value, extra, root: root) { return false }
      }
    }
    return true
  }
}

/// Schemas the constraint tests share.
public enum SchemaFixtures {
  public static let person = #"""
    {"type": "object", "title": "Person",
     "properties": {
       "name": {"type": "string", "description": "full name"},
       "age": {"type": "integer"},
       "height": {"type": ["number", "null"]},
       "color": {"enum": ["red", "green", 7, null]},
       "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
       "pet": {"anyOf": [{"$ref": "#/$defs/Pet"}, {"type": "null"}]},
       "ok": {"type": "boolean"},
       "v": {"const": {"x": [1, "y"]}}
     },
     "required": ["name", "age"], "additionalProperties": false,
     "$defs": {"Pet": {"type": "object", "properties": {"kind": {"type": "string"}, "legs": {"type": "integer"}},
                       "required": ["kind"]}}}
    """#
}
