import NIOCore

/// How long a connection may keep the server waiting, in each phase of HTTP/1.
struct ConnectionLimits: Sendable, Equatable {
  /// From the first byte of a request (or the connection's start) to its complete head.
  var headerTimeout: TimeAmount = .seconds(10)
  /// The longest silence while a request body is being read; a body that stops short of its
  /// Content-Length gets 400 when it passes.
  var bodyTimeout: TimeAmount = .seconds(30)
  /// How long a keep-alive connection may sit idle between requests.
  var keepAliveTimeout: TimeAmount = .seconds(30)
  /// How long a response may wait for a client that does not read (the socket stays full) before
  /// the connection is dropped.
  var writeTimeout: TimeAmount = .seconds(30)
  /// After a response that says `Connection: close`, how long the rest of the request is read and
  /// discarded before the socket closes (closing with unread data would reset the connection and
  /// could destroy the response before the client reads it).
  var linger: TimeAmount = .seconds(2)
}

/// The phase of one HTTP/1 connection and the deadline it implies, as a state machine: the guard
/// feeds it what it sees and carries out the action each transition returns. No clocks or
/// channels inside, so every transition is tested directly.
struct ConnectionDeadlines {
  enum Phase: Equatable {
    /// Waiting for a request head whose first byte arrived (a fresh connection counts: its
    /// client should speak at once).
    case awaitingHead
    case readingBody
    /// The request is read; the handler is working on it.
    case responding
    /// Between requests on a keep-alive connection.
    case idle
    /// Closing: a `Connection: close` response is out, the rest of the input is discarded.
    case lingering
    /// The guard closed the connection: no more deadlines.
    case closed
  }

  /// Why the guard closes a connection.
  enum CloseReason: String, Equatable {
    case headerTimeout = "header_timeout"
    case bodyTimeout = "body_timeout"
    case idle = "keep_alive_timeout"
    case writeStall = "write_timeout"
    case lingerDone = "closed_after_response"
  }

  enum Action: Equatable {
    case none
    /// Fail the body stream so the handler answers 400, then close after the response.
    case failBody
    /// Half-close (FIN) and discard input until `lingerDeadline`.
    case closeOutputAndLinger
    case close(CloseReason)
  }

  let limits: ConnectionLimits
  private(set) var phase: Phase = .awaitingHead
  private(set) var readDeadline: NIODeadline?
  private(set) var writeDeadline: NIODeadline?
  /// Requests whose head arrived and whose response has not ended.
  private(set) var inFlight = 0
  private var requestEnded = false
  private var responseStarted = false
  private var closeAfterResponse = false
  private var bodyFailed = false

  init(limits: ConnectionLimits, now: NIODeadline) {
    self.limits = limits
    readDeadline = now + limits.headerTimeout
  }

  /// The earliest deadline, for the one timer the guard keeps.
  var nextDeadline: NIODeadline? {
    switch (readDeadline, writeDeadline) {
    case (let r?, let w?): return min(r, w)
    case (let r?, nil): return r
    case (nil, let w?): return w
    case (nil, nil): return nil
    }
  }

  /// Whether a request is being answered (so a closed input means the client gave up on it).
  var isBusy: Bool { inFlight > 0 }

  /// Raw bytes arrived from the client.
  mutating func bytesArrived(now: NIODeadline) {
    switch phase {
    case .idle:
      phase = .awaitingHead
      readDeadline = now + limits.headerTimeout
    case .readingBody:
      if !bodyFailed { readDeadline = now + limits.bodyTimeout }
    case .awaitingHead, .responding, .lingering, .closed:
      break
    }
  }

  mutating func requestHead(now: NIODeadline) {
    guard phase != .lingering, phase != .closed else { return }
    inFlight += 1
    phase = .readingBody
    requestEnded = false
    responseStarted = false
    bodyFailed = false
    readDeadline = now + limits.bodyTimeout
  }

  mutating func requestEnd(now: NIODeadline) -> Action {
    guard phase == .readingBody else { return .none }
    requestEnded = true
    if inFlight == 0 {
      // The response went out before the body was read (a refusal): the connection is free again.
      phase = .idle
      readDeadline = now + limits.keepAliveTimeout
    } else {
      phase = .responding
      readDeadline = nil
    }
    return .none
  }

  mutating func responseHead(closesConnection: Bool) {
    responseStarted = true
    if closesConnection { closeAfterResponse = true }
  }

  mutating func responseEnd(now: NIODeadline) -> Action {
    inFlight = max(0, inFlight - 1)
    writeDeadline = nil
    guard phase != .closed, phase != .lingering else { return .none }
    if closeAfterResponse {
      phase = .lingering
      readDeadline = now + limits.linger
      return .closeOutputAndLinger
    }
    // A pipelined request still pending keeps the connection busy; a body still arriving is
    // drained under the body timeout.
    if inFlight == 0 && (phase == .responding || (phase == .readingBody && requestEnded)) {
      phase = .idle
      readDeadline = now + limits.keepAliveTimeout
    }
    return .none
  }

  mutating func writability(_ writable: Bool, now: NIODeadline) {
    if phase == .closed { return }
    if writable {
      writeDeadline = nil
    } else if writeDeadline == nil {
      writeDeadline = now + limits.writeTimeout
    }
  }

  /// The timer fired: what to do about whichever deadline passed.
  mutating func deadlineReached(now: NIODeadline) -> Action {
    if let w = writeDeadline, now >= w { return close(.writeStall) }
    guard let r = readDeadline, now >= r else { return .none }
    switch phase {
    case .awaitingHead: return close(.headerTimeout)
    case .idle: return close(.idle)
    case .lingering: return close(.lingerDone)
    case .responding, .closed: return .none
    case .readingBody:
      if responseStarted || bodyFailed { return close(.bodyTimeout) }
      // Let the handler say 400; if it never answers, close one more body timeout later.
      bodyFailed = true
      closeAfterResponse = true
      readDeadline = now + limits.bodyTimeout
      return .failBody
    }
  }

  /// The guard closes the connection itself (a client that went away needs no transition).
  private mutating func close(_ reason: CloseReason) -> Action {
    phase = .closed
    readDeadline = nil
    writeDeadline = nil
    return .close(reason)
  }
}
