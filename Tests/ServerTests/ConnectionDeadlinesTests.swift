import NIOCore
import Testing

@testable import Server

/// The connection guard's policy, transition by transition, on a fake clock.
@Suite struct ConnectionDeadlinesTests {
  let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
  var limits: ConnectionLimits {
    var l = ConnectionLimits()
    l.headerTimeout = .seconds(10)
    l.bodyTimeout = .seconds(30)
    l.keepAliveTimeout = .seconds(5)
    l.writeTimeout = .seconds(20)
    l.linger = .seconds(2)
    return l
  }

  func at(_ seconds: Int64) -> NIODeadline { t0 + .seconds(seconds) }

  @Test func aSilentNewConnectionGetsTheHeaderTimeout() {
    var d = ConnectionDeadlines(limits: limits, now: t0)
    #expect(d.nextDeadline == at(10))
    #expect(d.deadlineReached(now: at(9)) == .none)
    #expect(d.deadlineReached(now: at(10)) == .close(.headerTimeout))
    #expect(d.phase == .closed && d.nextDeadline == nil)
    #expect(d.deadlineReached(now: at(11)) == .none)
  }

  @Test func aHeadTrickledInStillMeetsItsDeadline() {
    var d = ConnectionDeadlines(limits: limits, now: t0)
    for s in 1...9 { d.bytesArrived(now: at(Int64(s))) }
    #expect(d.nextDeadline == at(10))
    #expect(d.deadlineReached(now: at(10)) == .close(.headerTimeout))
  }

  @Test func aShortBodyIsFailedThenClosed() {
    var d = ConnectionDeadlines(limits: limits, now: t0)
    d.requestHead(now: at(1))
    d.bytesArrived(now: at(20))  // body bytes push the silence deadline
    #expect(d.nextDeadline == at(50))
    #expect(d.deadlineReached(now: at(50)) == .failBody)
    // The handler answers 400; the response closes the connection after a linger.
    d.responseHead(closesConnection: false)
    #expect(d.responseEnd(now: at(51)) == .closeOutputAndLinger)
    #expect(d.phase == .lingering)
    #expect(d.deadlineReached(now: at(53)) == .close(.lingerDone))
  }

  @Test func aBodyFailedWithNoAnswerIsClosedOneTimeoutLater() {
    var d = ConnectionDeadlines(limits: limits, now: t0)
    d.requestHead(now: t0)
    #expect(d.deadlineReached(now: at(30)) == .failBody)
    #expect(d.deadlineReached(now: at(60)) == .close(.bodyTimeout))
  }

  @Test func keepAliveIdleAfterAResponseThenANewRequest() {
    var d = ConnectionDeadlines(limits: limits, now: t0)
    d.requestHead(now: at(1))
    #expect(d.requestEnd(now: at(1)) == .none)
    #expect(d.phase == .responding && d.nextDeadline == nil && d.isBusy)
    // A long generation: no read deadline while the handler works.
    #expect(d.deadlineReached(now: at(500)) == .none)
    d.responseHead(closesConnection: false)
    #expect(d.responseEnd(now: at(600)) == .none)
    #expect(d.phase == .idle && d.nextDeadline == at(605) && !d.isBusy)
    d.bytesArrived(now: at(604))
    #expect(d.phase == .awaitingHead && d.nextDeadline == at(614))
    d.requestHead(now: at(605))
    _ = d.requestEnd(now: at(605))
    d.responseHead(closesConnection: false)
    _ = d.responseEnd(now: at(606))
    #expect(d.deadlineReached(now: at(611)) == .close(.idle))
  }

  @Test func aPipelinedRequestKeepsTheConnectionBusy() {
    var d = ConnectionDeadlines(limits: limits, now: t0)
    d.requestHead(now: t0)
    _ = d.requestEnd(now: t0)
    d.requestHead(now: at(1))  // the next request arrives while the first is answered
    _ = d.requestEnd(now: at(1))
    d.responseHead(closesConnection: false)
    #expect(d.responseEnd(now: at(2)) == .none)
    #expect(d.phase == .responding && d.nextDeadline == nil && d.isBusy)
    #expect(d.deadlineReached(now: at(100)) == .none)
    d.responseHead(closesConnection: false)
    _ = d.responseEnd(now: at(200))
    #expect(d.phase == .idle && d.nextDeadline == at(205))
  }

  @Test func aRefusalBeforeTheBodyKeepsDrainingUnderTheBodyTimeout() {
    var d = ConnectionDeadlines(limits: limits, now: t0)
    d.requestHead(now: t0)
    d.responseHead(closesConnection: false)  // e.g. 401 before the body is read
    #expect(d.responseEnd(now: at(1)) == .none)
    #expect(d.phase == .readingBody)
    #expect(d.requestEnd(now: at(2)) == .none)
    #expect(d.phase == .idle && d.nextDeadline == at(7))
  }

  @Test func connectionCloseResponsesLingerThenClose() {
    var d = ConnectionDeadlines(limits: limits, now: t0)
    d.requestHead(now: t0)
    d.responseHead(closesConnection: true)  // 413
    #expect(d.responseEnd(now: at(1)) == .closeOutputAndLinger)
    #expect(d.nextDeadline == at(3))
    d.requestHead(now: at(2))  // whatever else arrives is not a request
    #expect(d.phase == .lingering)
    #expect(d.deadlineReached(now: at(3)) == .close(.lingerDone))
  }

  @Test func aReaderThatStopsReadingIsDropped() {
    var d = ConnectionDeadlines(limits: limits, now: t0)
    d.requestHead(now: t0)
    _ = d.requestEnd(now: t0)
    d.writability(false, now: at(5))
    d.writability(false, now: at(6))  // the first stall sets the deadline
    #expect(d.nextDeadline == at(25))
    d.writability(true, now: at(10))
    #expect(d.nextDeadline == nil)
    d.writability(false, now: at(11))
    #expect(d.deadlineReached(now: at(31)) == .close(.writeStall))
  }
}
