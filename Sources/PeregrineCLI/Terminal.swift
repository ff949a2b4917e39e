import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Line input for `chat`: on a terminal, a `LineEditor` in raw mode (arrows, emacs keys, history);
/// otherwise plain lines from stdin. No system library (libedit, readline) is needed.
final class LineReader {
  enum Input: Equatable {
    case line(String)
    /// Ctrl-C at the prompt; `hadText`: it dropped a partly typed line.
    case interrupted(hadText: Bool)
    case endOfInput
  }

  let interactive: Bool
  private var editor = LineEditor()
  private var decoder = KeyDecoder()
  /// Rows between the line's first row and the cursor at the last draw (long lines wrap).
  private var cursorRow = 0
  /// Characters of prompt and line at the last draw.
  private var drawnLength = 0

  init() {
    interactive = isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0
  }

  /// Reads one line after showing `prompt`.
  func read(prompt: String) -> Input {
    guard interactive else {
      guard let line = readLine() else { return .endOfInput }
      return .line(line)
    }
    var saved = termios()
    guard tcgetattr(STDIN_FILENO, &saved) == 0 else {
      guard let line = readLine() else { return .endOfInput }
      return .line(line)
    }
    var raw = saved
    // Raw input: no echo, no line buffering, Ctrl-C and Ctrl-D as bytes, no CR→NL translation.
    raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
    raw.c_iflag &= ~tcflag_t(IXON | ICRNL | INLCR)
    withUnsafeMutableBytes(of: &raw.c_cc) { cc in
      cc[Int(VMIN)] = 1
      cc[Int(VTIME)] = 0
    }
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw)
    defer { tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }

    editor.reset()
    cursorRow = 0
    draw(prompt)
    var byte: UInt8 = 0
    while true {
      let n = Glibc.read(STDIN_FILENO, &byte, 1)
      if n < 0 && errno == EINTR { continue }
      guard n == 1 else { return .endOfInput }
      for key in decoder.feed(byte) {
        switch editor.apply(key) {
        case .editing: draw(prompt)
        case .submit(let line):
          moveBelowLine()
          return .line(line)
        case .interrupted(let hadText):
          write("^C")
          moveBelowLine()
          return .interrupted(hadText: hadText)
        case .endOfInput:
          moveBelowLine()
          return .endOfInput
        case .clearScreen:
          write("\u{1B}[H\u{1B}[2J")
          draw(prompt)
        }
      }
    }
  }

  /// Redraws the prompt and line from the line's first row, then puts the cursor where the editor
  /// has it. Long lines wrap as the terminal wraps them; positions count characters (a wide CJK
  /// glyph counts as one column, so such lines can be drawn a little off).
  private func draw(_ prompt: String) {
    let width = max(1, terminalWidth())
    let text = editor.line
    let total = prompt.count + text.count
    let cursor = prompt.count + editor.cursor
    var out = cursorRow > 0 ? "\u{1B}[\(cursorRow)A" : ""
    out += "\r" + prompt + text + "\u{1B}[J"
    // A line that exactly fills its last row leaves the terminal's cursor pending at the margin:
    // start the next row so that the arithmetic below holds.
    if total > 0 && total % width == 0 { out += "\r\n" }
    let endRow = total / width
    let row = cursor / width
    if endRow > row { out += "\u{1B}[\(endRow - row)A" }
    out += "\r"
    if cursor % width > 0 { out += "\u{1B}[\(cursor % width)C" }
    cursorRow = row
    drawnLength = total
    write(out)
  }

  private func terminalWidth() -> Int {
    var size = winsize()
    guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
    return Int(size.ws_col)
  }

  /// Leaves the cursor at the start of the row after the (possibly wrapped) line.
  private func moveBelowLine() {
    let width = max(1, terminalWidth())
    let rowsBelow = drawnLength / width - cursorRow
    write((rowsBelow > 0 ? "\u{1B}[\(rowsBelow)B" : "") + "\r\n")
  }

  private func write(_ s: String) {
    FileHandle.standardOutput.write(Data(s.utf8))
  }
}
