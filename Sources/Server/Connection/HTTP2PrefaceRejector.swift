import NIOCore

/// HTTP/2 and gRPC clients open a connection with a fixed preface (`PRI * HTTP/2.0…`), which the
/// HTTP/1 parser would take for a malformed request. Routers send it on purpose: sglang-router
/// probes every new worker for gRPC (twice) while it probes HTTP. Ahead of the HTTP/1 codec, this
/// handler answers such a connection in HTTP/2's own terms, an empty SETTINGS frame then GOAWAY
/// with `HTTP_1_1_REQUIRED`, and closes it, so the client fails at once and says why. Any other
/// first bytes pass on untouched and the handler leaves the pipeline.
final class HTTP2PrefaceRejector: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer
  typealias OutboundOut = ByteBuffer

  static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
  /// How long a rejected client may keep sending (its SETTINGS) before the socket closes, so the
  /// GOAWAY is read rather than lost to a reset.
  private let linger: TimeAmount
  private var pending: ByteBuffer?
  private var rejected = false

  init(linger: TimeAmount) {
    self.linger = linger
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !rejected else { return }
    var bytes = unwrapInboundIn(data)
    if pending == nil {
      pending = bytes
    } else {
      pending!.writeBuffer(&bytes)
    }
    let seen = pending!.readableBytesView
    let n = min(seen.count, Self.preface.count)
    guard seen.prefix(n).elementsEqual(Self.preface.prefix(n)) else {
      passOn(context)
      return
    }
    if n == Self.preface.count { reject(context) }
    // else: a prefix of the preface so far; wait for the rest (the header timeout still runs).
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if case ChannelEvent.inputClosed = event, !rejected, pending != nil {
      // A client that stopped inside what looked like a preface: the HTTP/1 codec answers it.
      let bytes = pending!
      pending = nil
      context.fireChannelRead(wrapInboundOut(bytes))
    }
    context.fireUserInboundEventTriggered(event)
  }

  private func passOn(_ context: ChannelHandlerContext) {
    let bytes = pending!
    pending = nil
    context.fireChannelRead(wrapInboundOut(bytes))
    context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
  }

  private func reject(_ context: ChannelHandlerContext) {
    rejected = true
    pending = nil
    context.writeAndFlush(wrapOutboundOut(Self.refusal(allocator: context.channel.allocator)), promise: nil)
    context.close(mode: .output, promise: nil)
    let channel = context.channel
    context.eventLoop.scheduleTask(in: linger) { channel.close(promise: nil) }
  }

  /// An empty SETTINGS frame (the server's preface must open with one), then GOAWAY: last stream 0,
  /// error HTTP_1_1_REQUIRED (0xd), and a reason as debug data (RFC 9113 §3.4, §6.8).
  static func refusal(allocator: ByteBufferAllocator) -> ByteBuffer {
    let reason = Array("this server speaks HTTP/1.1 only".utf8)
    var b = allocator.buffer(capacity: 9 + 9 + 8 + reason.count)
    func frameHeader(length: Int, type: UInt8) {
      b.writeInteger(UInt8(truncatingIfNeeded: length >> 16))
      b.writeInteger(UInt16(truncatingIfNeeded: length))
      b.writeInteger(type)
      b.writeInteger(UInt8(0))  // flags
      b.writeInteger(UInt32(0))  // stream 0: the connection
    }
    frameHeader(length: 0, type: 0x4)  // SETTINGS
    frameHeader(length: 8 + reason.count, type: 0x7)  // GOAWAY
    b.writeInteger(UInt32(0))  // last stream id
    b.writeInteger(UInt32(0xd))  // HTTP_1_1_REQUIRED
    b.writeBytes(reason)
    return b
  }
}

@available(*, unavailable)
extension HTTP2PrefaceRejector: Sendable {}
