/// Finds stop sequences in streamed text that may straddle tokens: text that could still turn out to
/// begin a stop sequence is held back until it cannot, and a matched stop sequence (with anything
/// after it) is never released.
public struct StopSequenceMatcher: Sendable {
  public let stops: [String]
  private var held = ""
  public private(set) var stopped = false
  /// The stop sequence that ended the text, once one has (Anthropic reports which).
  public private(set) var matched: String?

  public init(_ stops: [String]) {
    self.stops = stops.filter { !$0.isEmpty }
  }

  /// Adds new text; returns the text now safe to emit. After a match, returns the text before it and
  /// sets `stopped`.
  public mutating func push(_ text: String) -> String {
    guard !stopped else { return "" }
    guard !stops.isEmpty else { return text }
    held += text
    var earliest: String.Index? = nil
    var which: String? = nil
    for s in stops {
      if let r = held.range(of: s), earliest == nil || r.lowerBound < earliest! {
        earliest = r.lowerBound
        which = s
      }
    }
    if let cut = earliest {
      stopped = true
      matched = which
      let out = String(held[..<cut])
      held = ""
      return out
    }
    // Hold the longest suffix that is a proper prefix of some stop sequence.
    var keep = 0
    for s in stops {
      var n = min(s.count - 1, held.count)
      while n > keep {
        if held.hasSuffix(s.prefix(n)) {
          keep = n
          break
        }
        n -= 1
      }
    }
    let split = held.index(held.endIndex, offsetBy: -keep)
    let out = String(held[..<split])
    held = String(held[split...])
    return out
  }

  /// Releases whatever is held (the stream ended without completing a stop sequence).
  public mutating func flush() -> String {
    guard !stopped else { return "" }
    let out = held
    held = ""
    return out
  }
}
