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
          write("\r\n")
          return .line(line)
        case .interrupted(let hadText):
          write("^C\r\n")
          return .interrupted(hadText: hadText)
        case .endOfInput:
          write("\r\n")
          return .endOfInput
        case .clearScreen:
          write("\u{1B}[H\u{1B}[2J")
          draw(prompt)
        }
      }
    }
  }

  /// Redraws the prompt and line, then puts the cursor where the editor has it. Long lines wrap as
  /// the terminal wraps them; the cursor column counts characters (wide CJK glyphs count as one).
  private func draw(_ prompt: String) {
    let text = editor.line
    let back = text.count - editor.cursor
    var out = "\r" + prompt + text + "\u{1B}[K"
    if back > 0 { out += "\u{1B}[\(back)D" }
    write(out)
  }

  private func write(_ s: String) {
    FileHandle.standardOutput.write(Data(s.utf8))
  }
}
