/// Why a model could not be found or fetched.
public enum HubError: Error, Equatable, CustomStringConvertible {
  case unknownModel(String, known: [String])
  case notDownloaded(name: String, path: String)
  case commandFailed(command: String, status: Int32, output: String)
  case checksumMismatch(file: String, expected: String, actual: String)
  case io(String)

  public var description: String {
    switch self {
    case .unknownModel(let name, let known):
      "'\(name)' is neither a file nor a known model (known: \(known.joined(separator: ", "))); "
        + "`peregrine pull --help` lists the catalog, and --model also takes the path of any GGUF file"
    case .notDownloaded(let name, let path): "model '\(name)' is not downloaded yet (expected at \(path)); run `peregrine pull \(name)`"
    case .commandFailed(let command, let status, let output):
      "`\(command)` failed with status \(status):\n\(output.suffix(2000))"
    case .checksumMismatch(let file, let expected, let actual):
      "checksum mismatch for \(file): expected sha256 \(expected), got \(actual)"
    case .io(let message): message
    }
  }
}
