import Accounts
import Engine
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `peregrine serve`: the OpenAI-compatible HTTP server. It binds first (a busy port ends it before
/// anything loads) and loads the model in the background (`/health` answers 503 until it is ready),
/// and shuts down gracefully on SIGTERM/SIGINT: `/health` turns 503 `draining`, the engine stops
/// taking requests, in-flight ones finish until the grace period ends, then the listener closes. A
/// second signal exits at once.
public struct PeregrineServer: Sendable {
  public let configuration: ServerConfiguration
  let logger: Logger
  let load: @Sendable () async throws -> ServedModel

  /// - Parameter load: loads weights and builds the engine; runs after the listener is up.
  public init(
    configuration: ServerConfiguration, logger: Logger = Logger(label: "peregrine.server"),
    load: @escaping @Sendable () async throws -> ServedModel
  ) {
    self.configuration = configuration
    self.logger = logger
    self.load = load
  }

  /// Runs until a shutdown signal, or until loading the model fails (then throws its error).
  public func run() async throws {
    var configuration = configuration
    let descriptors = FileDescriptorLimit.raise()
    if configuration.maxConnections > descriptors - FileDescriptorLimit.reserve {
      let cap = max(1, descriptors - FileDescriptorLimit.reserve)
      logger.warning(
        "--max-connections \(configuration.maxConnections) is more than the open-file limit (\(descriptors)) allows; using \(cap) (raise it with ulimit -n)"
      )
      configuration.maxConnections = cap
    }
    let accounts = try configuration.usageDatabasePath.map { try AccountsDatabase(path: $0) }
    // Key ids are keyed with the usage database's own secret, so they stay stable across restarts.
    let server = ServerContext(configuration: configuration, accounts: accounts, logger: logger)
    // Loading waits for the listener, so /health can report 503 for as long as loading takes.
    let (listening, listeningContinuation) = AsyncStream<Void>.makeStream()
    let app = Application(
      router: Routes.router(server),
      server: .guardedHTTP1(registry: server.connections),
      configuration: .init(
        address: .hostname(configuration.host, port: configuration.port), serverName: "peregrine"),
      onServerRunning: { _ in
        listeningContinuation.yield()
        listeningContinuation.finish()
      },
      logger: logger)
    let engineService = EngineService(
      server: server, load: load, gracePeriod: configuration.shutdownGracePeriod, listening: listening)
    // Services shut down in reverse order: the engine drains first while HTTP still delivers its
    // last tokens, then the listener stops.
    let group = ServiceGroup(
      configuration: .init(
        services: [
          .init(service: app), .init(service: engineService, failureTerminationBehavior: .gracefullyShutdownGroup),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    // The service group catches the first SIGINT/SIGTERM and then ignores the signal for as long
    // as draining takes; someone who presses Ctrl-C again wants out now.
    let impatience = SecondSignalExit(logger: logger)
    defer { impatience.cancel() }
    do {
      try await group.run()
    } catch let error as IOError where ServerError.listenErrnos.contains(error.errnoCode) {
      throw ServerError.cannotListen(host: configuration.host, port: configuration.port, errno: error.errnoCode)
    }
    if case .failed(let why) = server.host.state { throw ServerError.modelLoadFailed(why) }
  }
}

/// Why the server stopped on its own.
public enum ServerError: Error, CustomStringConvertible {
  case modelLoadFailed(String)
  case cannotListen(host: String, port: Int, errno: CInt)

  static let listenErrnos: Set<CInt> = [EADDRINUSE, EACCES, EADDRNOTAVAIL]

  public var description: String {
    switch self {
    case .modelLoadFailed(let why): "the model failed to load: \(why)"
    case .cannotListen(let host, let port, let code):
      switch code {
      case EADDRINUSE:
        "cannot listen on \(host):\(port): the port is already in use (another server is running there?); stop it or choose another --port"
      case EACCES: "cannot listen on \(host):\(port): permission denied (ports below 1024 need privileges); choose another --port"
      default: "cannot listen on \(host):\(port): \(String(cString: strerror(code))); check --host"
      }
    }
  }
}

/// Owns the engine's lifetime inside the service group: loads it, then drains it on shutdown.
struct EngineService: Service {
  let server: ServerContext
  let load: @Sendable () async throws -> ServedModel
  let gracePeriod: Duration
  let listening: AsyncStream<Void>

  func run() async throws {
    // Without the listener (the port was taken, or the group is stopping) there is nothing to load for.
    var listened = false
    for await _ in listening {
      listened = true
      break
    }
    guard listened else { return }
    let served: ServedModel
    do {
      // Loading is blocking work (mmap, weight repacking); keep it off the cooperative pool's hot path.
      let load = self.load
      served = try await Task.detached(priority: .userInitiated) { try await load() }.value
    } catch {
      server.logger.error("model failed to load: \(error)")
      server.host.set(.failed("\(error)"))
      throw error
    }
    var context = ModelContext(
      served: served, name: server.configuration.modelName, aliases: server.configuration.modelAliases)
    context.reasoningFormat = server.configuration.reasoningFormat
    if let limit = server.configuration.maxModelLength { context.contextLength = min(context.contextLength, limit) }
    if context.contextLength > served.engine.capacityTokens {
      // As vLLM refuses a max_model_len above what its KV cache holds: here the served context
      // shrinks, so requests that leave max_tokens out still fit.
      server.logger.warning(
        "the context (\(context.contextLength) tokens) is more than the KV cache holds; serving \(served.engine.capacityTokens) tokens (raise --kv-cache-memory for more)"
      )
      context.contextLength = served.engine.capacityTokens
    }
    server.host.set(.ready(engine: served.engine, context: context))
    server.logger.info("sampling defaults: \(served.samplingDefaults.summary)")
    server.logger.info(
      "model \(server.configuration.modelName) ready (context \(context.contextLength) tokens) on http://\(server.configuration.host):\(server.configuration.port)"
    )
    if let url = server.configuration.playgroundURL {
      server.logger.info("playground: \(url)  dashboard: \(url)dashboard  (--no-ui turns them off)")
    }
    let batchWorker = server.startBatchWorker()
    try? await gracefulShutdown()
    // Batch lines still running end with the engine's drain; unfinished ones stay pending in the
    // database and run again after the restart.
    batchWorker?.cancel()
    for job in (try? server.batches?.active()) ?? [] { server.batchWorker?.stop(job.id) }
    server.host.beginDraining()
    server.logger.info(
      "shutting down: draining in-flight requests for up to \(gracePeriod) (/health answers 503 draining; a second Ctrl-C exits at once)")
    await served.engine.shutdown(gracePeriod: gracePeriod)
  }
}
