import Foundation
import Templates
import Testing

/// jinja2 behaviours the real templates depend on, each pinned with its Python output.
@Suite struct JinjaFilterTests {
  func render(_ source: String, _ context: [String: JSONValue] = [:]) throws -> String {
    try JinjaTemplate(source: source).render(context)
  }

  @Test func tojsonTakesJSONDumpsArguments() throws {
    let v: [String: JSONValue] = [
      "x": try JSONValue(parsing: #"{"b": [1, "é"], "a": {"c": null}}"#)
    ]
    // json.dumps(x, ensure_ascii=False)
    #expect(try render("{{ x | tojson }}", v) == #"{"b": [1, "é"], "a": {"c": null}}"#)
    // json.dumps(x, ensure_ascii=True, sort_keys=True)
    #expect(try render("{{ x | tojson(ensure_ascii=true, sort_keys=true) }}", v) == #"{"a": {"c": null}, "b": [1, "\u00e9"]}"#)
    // json.dumps(x, indent=2, separators=(",", ":"))
    #expect(
      try render(#"{{ x | tojson(indent=2, separators=(",", ":")) }}"#, v)
        == "{\n  \"b\":[\n    1,\n    \"é\"\n  ],\n  \"a\":{\n    \"c\":null\n  }\n}")
    // An astral character escapes as a surrogate pair.
    #expect(try render("{{ '😀' | tojson(ensure_ascii=True) }}") == #""\ud83d\ude00""#)
  }

  /// markupsafe: adding a plain string to a `|safe` one escapes the plain one, autoescape or not
  /// (functionary v3.1's template prints its tool schemas that way).
  @Test func markupConcatenationEscapesThePlainSide() throws {
    #expect(try render(#"{{ "<b>"|safe + "<i>" }}"#) == "<b>&lt;i&gt;")
    #expect(try render(#"{{ "<i>" + "<b>"|safe }}"#) == "&lt;i&gt;<b>")
    #expect(try render(#"{% set m = "'"|safe %}{{ m + '"' + m }}"#) == "'&#34;'")
    #expect(try render(#"{{ "<b>"|safe ~ "<i>" }}"#) == "<b><i>")
    #expect(try render(#"{{ ("a"|safe) is string }} {{ "<x>"|safe|length }}"#) == "True 3")
  }

  @Test func selectAndMapOverNothingGiveNothing() throws {
    #expect(try render(#"{{ none | selectattr("type", "equalto", "x") | list | length }}"#) == "0")
    #expect(try render(#"{{ none | map(attribute="a") | list }}"#) == "[]")
    #expect(throws: JinjaError.self) { try render("{{ none | items | list }}") }
  }
}
