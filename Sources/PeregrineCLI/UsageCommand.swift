import Accounts
import ArgumentParser
import Foundation

/// `peregrine usage`: the report `/v1/usage` gives, read from the database directly.
struct UsageCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "usage", abstract: "Requests, tokens and cost per day, key or model, from the usage database.")

  @OptionGroup var db: AccountsOptions
  @Option(name: .customLong("group-by"), help: "day, key or model.") var groupBy = "day"
  @Option(help: "Start (YYYY-MM-DD, UTC; default: 30 days ago).") var start: String?
  @Option(help: "End, exclusive (YYYY-MM-DD, UTC; default: now).") var end: String?
  @Option(help: "Only this key id (key_…, key-…, anon-…).") var key: String?
  @Flag(help: "Print JSON.") var json = false

  func run() throws {
    guard let grouping = UsageLedger.Grouping(rawValue: groupBy) else {
      throw ValidationError("--group-by must be day, key or model")
    }
    let to = try end.map(Self.day) ?? Date()
    let from = try start.map(Self.day) ?? to.addingTimeInterval(-30 * 86_400)
    let rows = try wrap { try UsageLedger(db.open()).summary(start: from, end: to, groupBy: grouping, principal: key) }
    if json {
      printJSON(rows)
      return
    }
    var table = [[groupBy, "requests", "input", "cached", "output", "cost $"]]
    for r in rows {
      table.append([
        r.group.isEmpty ? "-" : r.group, String(r.requests), String(r.inputTokens), String(r.cachedTokens),
        String(r.outputTokens), String(format: "%.6f", r.cost),
      ])
    }
    let total = rows.reduce(into: (0, 0, 0, 0, 0.0)) {
      $0 = ($0.0 + $1.requests, $0.1 + $1.inputTokens, $0.2 + $1.cachedTokens, $0.3 + $1.outputTokens, $0.4 + $1.cost)
    }
    table.append([
      "total", String(total.0), String(total.1), String(total.2), String(total.3), String(format: "%.6f", total.4),
    ])
    printTable(table)
  }

  static func day(_ text: String) throws -> Date {
    let f = DateFormatter()
    f.dateFormat = "yyyy-MM-dd"
    f.timeZone = TimeZone(identifier: "UTC")
    f.locale = Locale(identifier: "en_US_POSIX")
    guard let d = f.date(from: text) else { throw ValidationError("cannot read '\(text)' as YYYY-MM-DD") }
    return d
  }
}
