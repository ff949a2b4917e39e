/// A key as the line editor sees it, decoded from terminal bytes by `KeyDecoder`.
enum EditorKey: Equatable, Sendable {
  case text(Character)
  case enter, backspace, delete, left, right, home, end, up, down
  case wordLeft, wordRight, deleteWordBefore, killToEnd, killToStart
  /// Ctrl-C at the prompt.
  case interrupt
  /// Ctrl-D: end of input on an empty line, delete under the cursor otherwise.
  case endOfInput
  case clearScreen
  /// A sequence the editor does not use (function keys, …): ignored.
  case ignored
}

/// The state of one input line with emacs-style editing and a history, as a pure value: keys in,
/// text and cursor out. `Terminal` reads the keys and draws the result; tests drive it directly.
struct LineEditor: Sendable {
  enum Outcome: Equatable, Sendable {
    /// Keep reading keys (redraw).
    case editing
    /// Enter: the line, added to the history when not empty.
    case submit(String)
    /// Ctrl-C: the line was dropped (`hadText` tells whether there was one to drop).
    case interrupted(hadText: Bool)
    /// Ctrl-D on an empty line.
    case endOfInput
    case clearScreen
  }

  private(set) var text: [Character] = []
  /// Index into `text`: 0 before the first character, `text.count` after the last.
  private(set) var cursor = 0
  private(set) var history: [String] = []
  /// The history entry shown (nil: the line being typed), and that line while browsing.
  private var historyIndex: Int? = nil
  private var draft: [Character] = []
  var maxHistory = 500

  var line: String { String(text) }

  init(history: [String] = []) {
    self.history = history
  }

  /// Starts a new, empty line (history stays).
  mutating func reset() {
    text = []
    cursor = 0
    historyIndex = nil
    draft = []
  }

  mutating func apply(_ key: EditorKey) -> Outcome {
    switch key {
    case .text(let c):
      text.insert(c, at: cursor)
      cursor += 1
    case .enter:
      let submitted = line
      if !submitted.allSatisfy(\.isWhitespace), history.last != submitted {
        history.append(submitted)
        if history.count > maxHistory { history.removeFirst(history.count - maxHistory) }
      }
      reset()
      return .submit(submitted)
    case .backspace:
      if cursor > 0 {
        text.remove(at: cursor - 1)
        cursor -= 1
      }
    case .delete:
      if cursor < text.count { text.remove(at: cursor) }
    case .endOfInput:
      if text.isEmpty { return .endOfInput }
      if cursor < text.count { text.remove(at: cursor) }
    case .left: cursor = max(0, cursor - 1)
    case .right: cursor = min(text.count, cursor + 1)
    case .home: cursor = 0
    case .end: cursor = text.count
    case .wordLeft: cursor = wordStart(before: cursor)
    case .wordRight: cursor = wordEnd(after: cursor)
    case .deleteWordBefore:
      let start = wordStart(before: cursor)
      text.removeSubrange(start..<cursor)
      cursor = start
    case .killToEnd: text.removeSubrange(cursor...)
    case .killToStart:
      text.removeSubrange(..<cursor)
      cursor = 0
    case .up: showHistory(step: -1)
    case .down: showHistory(step: 1)
    case .interrupt:
      let had = !text.isEmpty
      reset()
      return .interrupted(hadText: had)
    case .clearScreen: return .clearScreen
    case .ignored: break
    }
    return .editing
  }

  private mutating func showHistory(step: Int) {
    guard !history.isEmpty else { return }
    let current = historyIndex ?? history.count
    let next = min(history.count, max(0, current + step))
    guard next != current else { return }
    if historyIndex == nil { draft = text }
    if next == history.count {
      historyIndex = nil
      text = draft
    } else {
      historyIndex = next
      text = Array(history[next])
    }
    cursor = text.count
  }

  private func wordStart(before index: Int) -> Int {
    var i = index
    while i > 0 && text[i - 1].isWhitespace { i -= 1 }
    while i > 0 && !text[i - 1].isWhitespace { i -= 1 }
    return i
  }

  private func wordEnd(after index: Int) -> Int {
    var i = index
    while i < text.count && text[i].isWhitespace { i += 1 }
    while i < text.count && !text[i].isWhitespace { i += 1 }
    return i
  }
}

/// Turns the bytes a terminal sends in raw mode into keys: UTF-8 text, control characters, and the
/// escape sequences of xterm-style terminals (CSI and SS3 arrows, Home/End, Delete, Alt-b/f).
struct KeyDecoder: Sendable {
  private var pending: [UInt8] = []

  /// Keys completed by `byte` (none while a sequence or a character is unfinished).
  mutating func feed(_ byte: UInt8) -> [EditorKey] {
    pending.append(byte)
    guard let (key, used) = Self.decode(pending) else {
      // A sequence that can never complete is dropped rather than swallowing later keys.
      if pending.count > 16 { pending.removeAll() }
      return []
    }
    pending.removeFirst(used)
    var keys = [key]
    if !pending.isEmpty {
      let rest = pending
      pending.removeAll()
      for b in rest { keys += feed(b) }
    }
    return keys
  }

  /// The first key of `bytes` and how many bytes it took, or nil if more are needed.
  static func decode(_ bytes: [UInt8]) -> (EditorKey, Int)? {
    guard let first = bytes.first else { return nil }
    switch first {
    case 0x0D, 0x0A: return (.enter, 1)
    case 0x7F, 0x08: return (.backspace, 1)
    case 0x01: return (.home, 1)  // Ctrl-A
    case 0x02: return (.left, 1)  // Ctrl-B
    case 0x03: return (.interrupt, 1)  // Ctrl-C
    case 0x04: return (.endOfInput, 1)  // Ctrl-D
    case 0x05: return (.end, 1)  // Ctrl-E
    case 0x06: return (.right, 1)  // Ctrl-F
    case 0x0B: return (.killToEnd, 1)  // Ctrl-K
    case 0x0C: return (.clearScreen, 1)  // Ctrl-L
    case 0x0E: return (.down, 1)  // Ctrl-N
    case 0x10: return (.up, 1)  // Ctrl-P
    case 0x15: return (.killToStart, 1)  // Ctrl-U
    case 0x17: return (.deleteWordBefore, 1)  // Ctrl-W
    case 0x1B: return decodeEscape(bytes)
    case 0x00..<0x20: return (.ignored, 1)
    default: return decodeText(bytes)
    }
  }

  private static func decodeEscape(_ bytes: [UInt8]) -> (EditorKey, Int)? {
    guard bytes.count >= 2 else { return nil }
    switch bytes[1] {
    case UInt8(ascii: "["), UInt8(ascii: "O"):
      // CSI: parameters (digits, ';') then one final byte in 0x40...0x7E.
      var i = 2
      while i < bytes.count, (0x30...0x3F).contains(bytes[i]) { i += 1 }
      guard i < bytes.count else { return nil }
      let params = String(decoding: bytes[2..<i], as: UTF8.self)
      let modified = params.hasSuffix(";5") || params.hasSuffix(";3")  // Ctrl or Alt held
      let key: EditorKey
      switch bytes[i] {
      case UInt8(ascii: "A"): key = .up
      case UInt8(ascii: "B"): key = .down
      case UInt8(ascii: "C"): key = modified ? .wordRight : .right
      case UInt8(ascii: "D"): key = modified ? .wordLeft : .left
      case UInt8(ascii: "H"): key = .home
      case UInt8(ascii: "F"): key = .end
      case UInt8(ascii: "~"):
        switch params {
        case "1", "7": key = .home
        case "4", "8": key = .end
        case "3": key = .delete
        default: key = .ignored
        }
      default: key = .ignored
      }
      return (key, i + 1)
    case UInt8(ascii: "b"): return (.wordLeft, 2)  // Alt-b
    case UInt8(ascii: "f"): return (.wordRight, 2)  // Alt-f
    case 0x7F: return (.deleteWordBefore, 2)  // Alt-Backspace
    default: return (.ignored, 2)
    }
  }

  private static func decodeText(_ bytes: [UInt8]) -> (EditorKey, Int)? {
    let lead = bytes[0]
    let length = lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 1
    guard bytes.count >= length else { return nil }
    guard let s = String(validating: bytes[..<length], as: UTF8.self), let c = s.first else { return (.ignored, length) }
    return (.text(c), length)
  }
}
