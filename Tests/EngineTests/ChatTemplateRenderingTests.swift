import Foundation
import Templates
import TestSupport
import Testing

/// Real chat templates (Tests/Fixtures/templates) rendered by the interpreter must equal Python
/// jinja2's renderings byte for byte (tools/chat_template_fixtures.py), exceptions included.
@Suite struct ChatTemplateRenderingTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var template: String
    var conversation: String
    var context: [String: JSONValue]
    var output: String?
    var error: String?
    /// jinja2 failed with something other than `raise_exception`.
    var failure: String?
    var testDescription: String {
      let vars = context.filter { !["messages", "tools", "bos_token", "eos_token"].contains($0.key) }
        .map { "\($0.key)=\($0.value.compactText)" }.sorted().joined(separator: " ")
      return "\(template) \(conversation) \(vars)"
    }
  }

  static let fixture: JSONValue = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: fixturePath("templates/renderings.json")))
    return try! JSONValue(parsing: String(decoding: data, as: UTF8.self))
  }()

  /// The fixture's fixed clock, for `strftime_now`.
  static let now: Date = {
    let f = ISO8601DateFormatter()
    return f.date(from: fixture["now"]!.stringValue!)!
  }()

  static let cases: [Case] = {
    guard case .array(let items)? = fixture["cases"] else { return [] }
    return items.map { c in
      let conversation = c["conversation"]!.stringValue!
      let spec = fixture["conversations"]![conversation]!
      var context: [String: JSONValue] = [:]
      if case .object(let vars)? = c["variables"] { for (k, v) in vars { context[k] = v } }
      context["messages"] = spec["messages"]
      if let tools = spec["tools"] { context["tools"] = tools }
      return Case(
        template: c["template"]!.stringValue!, conversation: conversation, context: context,
        output: c["output"]?.stringValue, error: c["error"]?.stringValue, failure: c["failure"]?.stringValue)
    }
  }()

  static var templateNames: [String] { Array(Set(cases.map(\.template))).sorted() }

  @Test func fixtureCoversTheFamilies() {
    let names = Self.templateNames
    #expect(names.count >= 13)
    for family in ["Qwen2.5", "Qwen3", "Llama-3.1", "Llama-3.2", "Llama-3.3", "R1-Distill", "Mistral", "Hermes"] {
      #expect(names.contains { $0.contains(family) }, "\(family)")
    }
    #expect(Self.cases.count >= 200)
    #expect(Self.cases.contains { $0.context["enable_thinking"] == .bool(false) })
  }

  @Test(arguments: cases) func rendersLikeJinja2(c: Case) throws {
    let source = String(decoding: try Data(contentsOf: URL(fileURLWithPath: fixturePath("templates/\(c.template)"))), as: UTF8.self)
    let template = try JinjaTemplate(source: source)
    switch Result(catching: { () throws(JinjaError) in try template.render(c.context, now: Self.now) }) {
    case .success(let out):
      #expect(c.error == nil && c.failure == nil, "jinja2 failed: \(c.error ?? c.failure ?? "")")
      if let expected = c.output, out != expected {
        let common = zip(out, expected).prefix { $0 == $1 }.count
        Issue.record(
          "differs at character \(common): got \(String(out.dropFirst(common).prefix(80)).debugDescription), jinja2 \(String(expected.dropFirst(common).prefix(80)).debugDescription)"
        )
      }
    case .failure(.raised(let message)):
      #expect(message == c.error, "raised \(message)")
    case .failure(let error):
      #expect(c.failure != nil, "\(error)")
    }
  }
}
