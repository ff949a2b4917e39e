import Foundation
import Hub
import Synchronization
import Testing

@Suite("Model store")
struct ModelStoreTests {
  /// `sha256(of:)` reads a child process's output; every call must see all of it. A reader that
  /// raced the child's exit once returned an empty digest, which failed a fixture's checksum.
  @Test func checksumNeverLosesTheChildsOutput() throws {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("pg-sha-\(getpid()).txt")
    try Data("abc".utf8).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let store = ModelStore(directory: FileManager.default.temporaryDirectory)
    let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    // Eight threads at once, as the test tiers run suites in parallel: the race showed under load.
    let wrong = Mutex<[String]>([])
    DispatchQueue.concurrentPerform(iterations: 8) { _ in
      for _ in 0..<150 {
        let digest = (try? store.sha256(of: file)) ?? "error"
        if digest != expected { wrong.withLock { $0.append(digest) } }
      }
    }
    let seen = wrong.withLock { $0 }
    #expect(seen.isEmpty, "\(seen.count) of 1200 digests wrong: \(seen.prefix(3))")
  }
}
