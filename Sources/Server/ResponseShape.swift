import Engine
import Foundation

/// How one API dialect presents a generation: a whole body, or the pieces of a stream (SSE events
/// for OpenAI, Anthropic and Responses; NDJSON lines for Ollama). `CompletionHandler` runs every
/// dialect's generations the same way (admission, metering, the result cache, cancellation when
/// the client leaves) and asks the shape only for bytes.
///
/// Stream order: `opening` for every choice, then `token`/`final` as the engine reports them,
/// then `closing` once the usage row is committed (so a client that saw the end has its record).
protocol ResponseShape: Sendable {
  /// The streamed response's `Content-Type`.
  var streamContentType: String { get }
  /// The whole response once every choice finished; `cost` is what `usage` reports.
  func whole(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> Data
  /// What opens a choice's stream (may be nothing).
  mutating func opening(choice: Int) -> [Data]
  /// One token's events; nothing when it carries nothing to show.
  mutating func token(_ t: GeneratedToken, choice: Int, textOffset: Int) -> [Data]
  /// What closes one choice.
  mutating func final(_ c: EngineCompletion, choice: Int) -> [Data]
  /// What ends the stream after every choice closed: usage, the terminator.
  mutating func closing(_ choices: [ChoiceAccumulator], cost: UsageCost?) -> [Data]
  /// Keeps a finished, successful response whose plan says `store` (before the stream's closing
  /// events are sent, so a client that saw the end can read it back).
  func keep(response: Data, choices: [ChoiceAccumulator], caller: CompletionHandler.Caller, server: ServerContext)
}

extension ResponseShape {
  var streamContentType: String { "text/event-stream" }

  func keep(response: Data, choices: [ChoiceAccumulator], caller: CompletionHandler.Caller, server: ServerContext) {}
}

/// Server-sent events with an `event:` line, as Anthropic and OpenAI's Responses API send them.
enum NamedEvent {
  static func encode(_ name: String, _ value: some Encodable) -> Data {
    var out = Data("event: \(name)\n".utf8)
    out.append(SSEEncoder.event(value))
    return out
  }
}
