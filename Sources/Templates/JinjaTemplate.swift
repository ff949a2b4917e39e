import Foundation

/// A parsed Jinja template (the subset chat templates use), ready to render many times.
///
/// Rendering follows HF transformers' settings: `trim_blocks` and `lstrip_blocks` on, autoescape
/// off, `tojson` as `json.dumps(ensure_ascii=False)`, `raise_exception(msg)` surfacing as
/// `JinjaError.raised(msg)`. Loops, recursion, and string and output sizes are capped by
/// `JinjaLimits`, so a hostile template ends in a typed error, never a crash or a hang.
public struct JinjaTemplate: Sendable {
  public let source: String
  let nodes: [JinjaNode]

  /// Parses `source`; throws `JinjaError.syntax` for text outside the supported subset.
  public init(source: String) throws(JinjaError) {
    self.source = source
    var lexer = JinjaLexer(source)
    var parser = JinjaParser(try lexer.segments())
    nodes = try parser.parseTemplate()
  }

  /// Renders with `context` as the template's variables.
  /// - Parameter now: the instant `strftime_now` formats (UTC); the current time by default.
  public func render(_ context: [String: JSONValue], limits: JinjaLimits = JinjaLimits(), now: Date? = nil)
    throws(JinjaError) -> String
  {
    try render(values: context.mapValues(JinjaValue.init), limits: limits, now: now ?? Date())
  }

  func render(values: [String: JinjaValue], limits: JinjaLimits, now: Date = Date()) throws(JinjaError) -> String {
    let interpreter = JinjaInterpreter(globals: values, limits: limits, now: now)
    // A loop control outside a loop just ends the template, as nothing encloses it.
    _ = try interpreter.run(nodes)
    return interpreter.output
  }
}
