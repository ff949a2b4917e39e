import Foundation
import Logging

/// Exits the process on the second SIGINT or SIGTERM. The first one starts the graceful drain (the
/// service group's own handler); while that drain waits for running requests, a second interrupt
/// means "stop now", as uvicorn and llama-server treat it.
final class SecondSignalExit: @unchecked Sendable {
  private let sources: [DispatchSourceSignal]
  private let lock = NSLock()
  private var received = 0

  init(logger: Logger, signals: [Int32] = [SIGINT, SIGTERM]) {
    var made: [DispatchSourceSignal] = []
    let queue = DispatchQueue(label: "peregrine.second-signal")
    for sig in signals {
      let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
      made.append(source)
    }
    sources = made
    for source in sources {
      source.setEventHandler { [weak self] in
        guard let self else { return }
        let count = self.lock.withLock {
          self.received += Int(source.data)
          return self.received
        }
        if count >= 2 {
          logger.warning("second interrupt: exiting now without waiting for running requests")
          exit(130)
        }
      }
      source.resume()
    }
  }

  func cancel() {
    for source in sources { source.cancel() }
  }
}
