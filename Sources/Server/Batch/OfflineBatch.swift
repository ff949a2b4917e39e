import Engine
import Foundation

/// `peregrine batch run`: a batch input file run to an output file without a server, in the same
/// format. Each finished line is appended and synced before the next counts, so a re-run after an
/// interruption skips every `custom_id` already in the output and runs only the rest.
public struct OfflineBatch: Sendable {
  let model: ModelContext
  let engine: any ServingEngine
  /// Lines in flight at once.
  public var concurrency = 8

  public init(served: ServedModel, modelName: String) {
    model = ModelContext(served: served, name: modelName, aliases: [])
    engine = served.engine
  }

  public struct Summary: Sendable {
    public var total = 0
    /// Lines already in the output from an earlier run.
    public var resumed = 0
    public var succeeded = 0
    public var failed = 0
  }

  public enum Failure: Error, CustomStringConvertible {
    case invalidInput([String])
    case io(String)

    public var description: String {
      switch self {
      case .invalidInput(let lines): "the input is not a valid batch file:\n  " + lines.joined(separator: "\n  ")
      case .io(let why): why
      }
    }
  }

  /// Runs every line of `input` not yet in `output`; `progress` gets (lines done, lines in all).
  public func run(input: URL, output: URL, progress: @escaping @Sendable (Int, Int) -> Void) async throws(Failure)
    -> Summary
  {
    let content: Data
    do { content = try Data(contentsOf: input) } catch { throw .io("cannot read \(input.path): \(error)") }
    let endpoint = Self.endpoint(of: content) ?? "/v1/chat/completions"
    let requests: [(customID: String, body: String)]
    switch BatchInputValidator(endpoint: endpoint).validate(content) {
    case .invalid(let errors, _):
      throw .invalidInput(errors.map { e in (e.line.map { "line \($0): " } ?? "") + e.message })
    case .valid(let r): requests = r
    }
    let done = try resume(output)
    var summary = Summary(total: requests.count, resumed: done.count)
    let handle: FileHandle
    do { handle = try FileHandle(forWritingTo: output) } catch { throw .io("cannot write \(output.path): \(error)") }
    defer { try? handle.close() }
    _ = try? handle.seekToEnd()
    var runner = BatchRunner(engine: engine, model: model, endpoint: endpoint)
    // Nothing interactive shares this engine: lines get whole steps.
    runner.priority = 0
    let todo = requests.filter { !done.contains($0.customID) }
    var finished = done.count
    progress(finished, requests.count)
    await withTaskGroup(of: (Data, Bool).self) { group in
      var next = 0
      func add() {
        guard next < todo.count else { return }
        let request = todo[next]
        next += 1
        group.addTask { await Self.line(request, runner: runner) }
      }
      for _ in 0..<max(1, concurrency) { add() }
      for await (line, ok) in group {
        // Written and synced before the line counts: a re-run never repeats it.
        try? handle.write(contentsOf: line)
        try? handle.synchronize()
        finished += 1
        if ok { summary.succeeded += 1 } else { summary.failed += 1 }
        progress(finished, requests.count)
        add()
      }
    }
    return summary
  }

  /// One line's output: what the server's batch would write for it.
  private static func line(_ request: (customID: String, body: String), runner: BatchRunner) async -> (Data, Bool) {
    let requestID = "batch_req_" + Routes.shortID()
    switch runner.plan(body: request.body, id: Routes.shortID()) {
    case .failure(let error):
      return (BatchOutputLine.answered(customID: request.customID, requestID: requestID, status: error.status, body: error.body), false)
    case .success(let plan):
      while true {
        switch await runner.generate(plan) {
        case .finished(let choices):
          let r = BatchRunner.response(plan: plan, choices: choices, cost: nil)
          return (
            BatchOutputLine.answered(customID: request.customID, requestID: requestID, status: r.status, body: r.body),
            r.status == 200
          )
        case .rejected(let error):
          return (
            BatchOutputLine.answered(customID: request.customID, requestID: requestID, status: error.status, body: error.body),
            false
          )
        case .stopped, .refused:
          try? await Task.sleep(for: .milliseconds(100))
        }
      }
    }
  }

  /// The url of the first line that names one.
  static func endpoint(of content: Data) -> String? {
    struct Line: Decodable { var url: String? }
    for raw in content.split(separator: UInt8(ascii: "\n")).prefix(1000) {
      if let url = (try? JSONDecoder().decode(Line.self, from: Data(raw)))?.url { return url }
    }
    return nil
  }

  /// The custom ids already in `output` (created empty if missing). A last line cut short by an
  /// interruption is removed, so it runs again.
  func resume(_ output: URL) throws(Failure) -> Set<String> {
    let fm = FileManager.default
    if !fm.fileExists(atPath: output.path) {
      guard fm.createFile(atPath: output.path, contents: nil) else { throw .io("cannot create \(output.path)") }
      return []
    }
    guard var data = try? Data(contentsOf: output) else { throw .io("cannot read \(output.path)") }
    if let last = data.lastIndex(of: UInt8(ascii: "\n")), last != data.count - 1 {
      data = data.prefix(last + 1)
      guard (try? data.write(to: output)) != nil else { throw .io("cannot repair \(output.path)") }
    } else if !data.isEmpty, data.last != UInt8(ascii: "\n") {
      data = Data()
      guard (try? data.write(to: output)) != nil else { throw .io("cannot repair \(output.path)") }
    }
    struct Line: Decodable {
      var customID: String
      enum CodingKeys: String, CodingKey { case customID = "custom_id" }
    }
    var ids = Set<String>()
    for raw in data.split(separator: UInt8(ascii: "\n")) {
      if let line = try? JSONDecoder().decode(Line.self, from: Data(raw)) { ids.insert(line.customID) }
    }
    return ids
  }
}
