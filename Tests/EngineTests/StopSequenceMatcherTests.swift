import Engine
import Testing

@Suite("Stop sequences")
struct StopSequenceMatcherTests {
  @Test func stopStraddlingTokensIsNeverEmitted() {
    var m = StopSequenceMatcher(["END"])
    var out = ""
    for piece in ["Hello E", "N", "D and more"] { out += m.push(piece) }
    #expect(out == "Hello ")
    #expect(m.stopped)
    #expect(m.push("x") == "")
  }

  @Test func heldTextIsReleasedWhenItCannotBeAStop() {
    var m = StopSequenceMatcher(["\n\n"])
    #expect(m.push("a\n") == "a")
    #expect(m.push("b") == "\nb")
    #expect(!m.stopped)
    #expect(m.push("\n") == "")
    #expect(m.flush() == "\n")
  }

  @Test func earliestOfSeveralStopsWins() {
    var m = StopSequenceMatcher(["world", "lo"])
    #expect(m.push("hello world") == "hel")
  }

  @Test func noStopsPassesTextThrough() {
    var m = StopSequenceMatcher([])
    #expect(m.push("abc") == "abc")
    #expect(m.flush() == "")
  }
}
