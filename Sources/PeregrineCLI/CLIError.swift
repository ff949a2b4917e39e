/// An error whose message is shown to the user as is (ArgumentParser prints `description`).
struct CLIError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
  init(_ error: any Error) { self.description = String(describing: error) }
}
