import Foundation
import NIOCore

/// First handler of every connection, on raw bytes: admits it under `--max-connections` (past the
/// cap the client gets a 503 at once instead of waiting in the kernel's backlog), and tells the
/// connection's guard whenever bytes arrive, which a request head split over many reads needs.
final class ConnectionGate: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  private let registry: ConnectionRegistry
  private let connectionGuard: ConnectionGuard
  private var admitted = false
  private var refused = false

  init(registry: ConnectionRegistry, connectionGuard: ConnectionGuard) {
    self.registry = registry
    self.connectionGuard = connectionGuard
  }

  func handlerAdded(context: ChannelHandlerContext) {
    if context.channel.isActive { admit(context) }
  }

  func channelActive(context: ChannelHandlerContext) {
    admit(context)
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    if admitted { registry.close(context.channel) }
    admitted = false
    context.fireChannelInactive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    // A refused connection's request is read and dropped until the socket closes.
    guard !refused else { return }
    connectionGuard.bytesArrived()
    context.fireChannelRead(data)
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if refused, case ChannelEvent.inputClosed = event {
      context.close(promise: nil)
      return
    }
    context.fireUserInboundEventTriggered(event)
  }

  private func admit(_ context: ChannelHandlerContext) {
    guard !admitted, !refused else { return }
    if registry.open(context.channel, watch: connectionGuard.watch) {
      admitted = true
      return
    }
    refused = true
    context.writeAndFlush(NIOAny(Self.refusal), promise: nil)
    context.close(mode: .output, promise: nil)
    // Read what the client sends until it closes or the linger passes, so the 503 is not lost to a reset.
    let channel = context.channel
    context.eventLoop.scheduleTask(in: registry.limits.linger) { channel.close(promise: nil) }
  }

  /// The whole 503 response, written before any of the request is read.
  static let refusal: ByteBuffer = {
    let body = APIError(
      status: 503, message: "The server has too many open connections; retry shortly.", type: "server_error",
      param: nil, code: "too_many_connections", retryAfter: 1
    ).body
    var buffer = ByteBuffer(
      string: "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
        + "Connection: close\r\nContent-Length: \(body.count)\r\n\r\n")
    buffer.writeBytes(body)
    return buffer
  }()
}

@available(*, unavailable)
extension ConnectionGate: Sendable {}
