import Testing

@testable import PeregrineCLI

@Suite struct LineEditorTests {
  func keys(_ bytes: [UInt8]) -> [EditorKey] {
    var decoder = KeyDecoder()
    return bytes.flatMap { decoder.feed($0) }
  }

  func type(_ text: String, into editor: inout LineEditor) {
    for c in text { _ = editor.apply(.text(c)) }
  }

  @Test func decodesArrowsEditingKeysAndUTF8() {
    #expect(keys(Array("\u{1B}[D\u{1B}[C\u{1B}[A\u{1B}[B".utf8)) == [.left, .right, .up, .down])
    #expect(keys(Array("\u{1B}OH\u{1B}OF\u{1B}[3~\u{1B}[1;5D".utf8)) == [.home, .end, .delete, .wordLeft])
    #expect(keys([0x01, 0x05, 0x0B, 0x15, 0x17, 0x7F, 0x03, 0x04, 0x0D]) == [
      .home, .end, .killToEnd, .killToStart, .deleteWordBefore, .backspace, .interrupt, .endOfInput, .enter,
    ])
    // A two-byte and a four-byte character arrive byte by byte.
    #expect(keys(Array("é🦅".utf8)) == [.text("é"), .text("🦅")])
    // An unknown sequence is skipped without eating the key after it.
    #expect(keys(Array("\u{1B}[15~x".utf8)) == [.ignored, .text("x")])
  }

  @Test func editsInTheMiddleOfALine() {
    var e = LineEditor()
    type("helo world", into: &e)
    for _ in 0..<7 { _ = e.apply(.left) }
    _ = e.apply(.text("l"))
    #expect(e.line == "hello world" && e.cursor == 4)
    _ = e.apply(.end)
    _ = e.apply(.deleteWordBefore)
    #expect(e.line == "hello ")
    _ = e.apply(.home)
    _ = e.apply(.killToEnd)
    #expect(e.line.isEmpty)
    #expect(e.apply(.endOfInput) == .endOfInput)
  }

  @Test func historyRecallsEarlierLinesAndKeepsTheDraft() {
    var e = LineEditor()
    type("first", into: &e)
    #expect(e.apply(.enter) == .submit("first"))
    type("second", into: &e)
    #expect(e.apply(.enter) == .submit("second"))
    type("draft", into: &e)
    _ = e.apply(.up)
    #expect(e.line == "second")
    _ = e.apply(.up)
    _ = e.apply(.up)
    #expect(e.line == "first")
    _ = e.apply(.down)
    _ = e.apply(.down)
    #expect(e.line == "draft")
    // Blank lines and repeats stay out of the history.
    _ = e.apply(.killToStart)
    _ = e.apply(.enter)
    type("second", into: &e)
    _ = e.apply(.enter)
    #expect(e.history == ["first", "second"])
  }

  @Test func ctrlCDropsTheLineAndSaysWhetherThereWasOne() {
    var e = LineEditor()
    #expect(e.apply(.interrupt) == .interrupted(hadText: false))
    type("oops", into: &e)
    #expect(e.apply(.interrupt) == .interrupted(hadText: true))
    #expect(e.line.isEmpty)
  }
}
