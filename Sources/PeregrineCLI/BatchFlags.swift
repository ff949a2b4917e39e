import ArgumentParser
import Foundation
import Server

/// `serve`'s flags for the Files and Batch APIs (docs/server.md, "Batches").
struct BatchFlags: ParsableArguments {
  @Option(
    name: .customLong("files-dir"),
    help: "Directory for uploaded and batch-written files (default: files/ beside the usage database).")
  var filesDir: String?
  @Option(name: .customLong("max-file-size"), help: "Largest file /v1/files accepts, e.g. 200MiB.")
  var maxFileSize = ByteSize(bytes: 200 << 20)
  @Option(
    name: .customLong("batch-concurrency"),
    help: "Batch lines in flight at once; they run only in capacity interactive requests leave.")
  var batchConcurrency = 8

  func validate() throws {
    guard (1...256).contains(batchConcurrency) else { throw ValidationError("--batch-concurrency must be 1–256") }
  }

  func apply(to configuration: inout ServerConfiguration) throws {
    configuration.filesDirectory = filesDir
    configuration.maxFileBytes = maxFileSize.bytes
    configuration.batchConcurrency = batchConcurrency
  }
}
