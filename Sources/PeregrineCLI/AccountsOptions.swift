import Accounts
import ArgumentParser
import Foundation

/// The database the `keys` and `usage` commands work on: the file `serve --usage-db` uses.
struct AccountsOptions: ParsableArguments {
  @Option(name: .customLong("db"), help: "The server's usage database (default: ~/.cache/peregrine/usage.sqlite).")
  var path: String?

  static var defaultPath: String {
    FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/peregrine/usage.sqlite").path
  }

  func open() throws -> AccountsDatabase {
    do { return try AccountsDatabase(path: path ?? Self.defaultPath) } catch { throw CLIError(error) }
  }
}
