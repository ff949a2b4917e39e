import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1 child channel with Peregrine's guards around the codec: the gate on raw
/// bytes first (connection cap, byte arrival), an HTTP/2 preface answered with GOAWAY, the guard on request and response parts after the
/// codec (timeouts, client-gone, close after `Connection: close`). The pipeline is otherwise the
/// one `HTTP1Channel` builds.
struct GuardedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
  typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

  let responder: HTTPChannelHandler.Responder
  let registry: ConnectionRegistry
  /// Bytes the kernel may hold for a client that does not read, on top of NIO's own buffer; small,
  /// so a stalled reader is noticed (and dropped after the write timeout) early.
  var sendBufferBytes = 256 << 10

  func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
    channel.eventLoop.makeCompletedFuture {
      try channel.syncOptions?.setOption(.socketOption(.so_sndbuf), value: SocketOptionValue(sendBufferBytes))
      let watch = ConnectionWatch(close: { [weak channel] in channel?.close(promise: nil) })
      let connectionGuard = ConnectionGuard(registry: registry, watch: watch)
      let pipeline = channel.pipeline.syncOperations
      try pipeline.addHandler(ConnectionGate(registry: registry, connectionGuard: connectionGuard))
      try pipeline.addHandler(HTTP2PrefaceRejector(linger: registry.limits.linger))
      try pipeline.configureHTTPServerPipeline(
        withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false)
      try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
      try pipeline.addHandler(connectionGuard)
      // Hummingbird's own state handler: it closes idle connections when the server quiesces.
      try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
      return try NIOAsyncChannel(
        wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
    }
  }

  func handle(value asyncChannel: Value, logger: Logger) async {
    await handleHTTP(asyncChannel: asyncChannel, logger: logger)
  }
}

extension HTTPServerBuilder {
  /// HTTP/1 with Peregrine's connection guards.
  static func guardedHTTP1(registry: ConnectionRegistry) -> HTTPServerBuilder {
    .init { responder in GuardedHTTP1Channel(responder: responder, registry: registry) }
  }
}
