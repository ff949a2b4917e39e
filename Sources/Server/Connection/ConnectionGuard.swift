import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// The request body stopped arriving before its end (the body timeout passed): answered with 400.
struct RequestBodyTimeout: Error {}

/// Keeps one HTTP/1 connection honest, between the HTTP codec and the request handlers: read
/// timeouts (header, body, keep-alive idle), a write timeout for clients that stop reading,
/// closing after a `Connection: close` response, and telling the routes (`ConnectionWatch`) the
/// moment the client goes away. The policy is `ConnectionDeadlines`; this class only carries it out.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPRequestPart
  typealias InboundOut = HTTPRequestPart
  typealias OutboundIn = HTTPResponsePart
  typealias OutboundOut = HTTPResponsePart

  let watch: ConnectionWatch
  private let registry: ConnectionRegistry
  private var deadlines: ConnectionDeadlines
  private var timer: Scheduled<Void>?
  private var timerDeadline: NIODeadline?
  private var context: ChannelHandlerContext?

  init(registry: ConnectionRegistry, watch: ConnectionWatch) {
    self.registry = registry
    self.watch = watch
    deadlines = ConnectionDeadlines(limits: registry.limits, now: .now())
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    reschedule()
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    timer?.cancel()
    timer = nil
    self.context = nil
  }

  /// Called by the connection's `ConnectionGate` for every read of raw bytes (a head may take many).
  func bytesArrived() {
    deadlines.bytesArrived(now: .now())
    reschedule()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    // After a closing response, whatever else the client sends is read and dropped.
    if deadlines.phase == .lingering || deadlines.phase == .closed { return }
    switch unwrapInboundIn(data) {
    case .head: deadlines.requestHead(now: .now())
    case .body: break
    case .end: apply(deadlines.requestEnd(now: .now()), context: context)
    }
    reschedule()
    context.fireChannelRead(data)
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    let part = unwrapOutboundIn(data)
    if case .head(let response) = part {
      deadlines.responseHead(closesConnection: response.headerFields[.connection]?.lowercased() == "close")
    }
    context.write(data, promise: promise)
    if case .end = part {
      apply(deadlines.responseEnd(now: .now()), context: context)
      reschedule()
    }
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    deadlines.writability(context.channel.isWritable, now: .now())
    reschedule()
    context.fireChannelWritabilityChanged()
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if case ChannelEvent.inputClosed = event {
      // A client that closes its side while its request is answered has given up on it (nginx's 499).
      if deadlines.isBusy { watch.clientLeft() }
      if deadlines.phase == .lingering {
        context.close(promise: nil)
        return
      }
    }
    context.fireUserInboundEventTriggered(event)
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    // The decoder's word for a socket that closed inside a request (a body shorter than its length):
    // mark the client gone before the handler reading the body sees the error.
    if let parse = error as? HTTPParserError, parse == .invalidEOFState { watch.clientLeft() }
    context.fireErrorCaught(error)
  }

  func channelInactive(context: ChannelHandlerContext) {
    watch.clientLeft()
    timer?.cancel()
    timer = nil
    context.fireChannelInactive()
  }

  private func apply(_ action: ConnectionDeadlines.Action, context: ChannelHandlerContext) {
    switch action {
    case .none: break
    case .failBody:
      registry.record(.bodyTimeout)
      context.fireErrorCaught(RequestBodyTimeout())
    case .closeOutputAndLinger:
      context.flush()
      context.close(mode: .output, promise: nil)
    case .close(let reason):
      registry.record(reason)
      if reason == .writeStall { watch.clientLeft() }
      context.close(promise: nil)
    }
  }

  /// Keeps one timer, set for the earliest deadline.
  private func reschedule() {
    guard let context else { return }
    let next = deadlines.nextDeadline
    guard next != timerDeadline else { return }
    timer?.cancel()
    timer = nil
    timerDeadline = next
    guard let next else { return }
    timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: next) { [self] in
      timer = nil
      timerDeadline = nil
      guard let context = self.context else { return }
      apply(deadlines.deadlineReached(now: .now()), context: context)
      reschedule()
    }
  }
}

@available(*, unavailable)
extension ConnectionGuard: Sendable {}
