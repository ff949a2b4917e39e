import Accounts
import ArgumentParser
import Foundation

/// `peregrine keys …`: the key store of a server's database, managed offline (the server picks
/// changes up at once: it reads keys from the same file).
struct Keys: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Create, list and revoke API keys; set their tier; top up prepaid tokens.",
    discussion: """
      Keys live hashed in the server's usage database (--db, default ~/.cache/peregrine/usage.sqlite).
      A tier names a daily token allowance over a rolling 24 hours: anonymous 2500, free 5000 and
      unlimited to start with; change them with `peregrine keys tier NAME --daily-tokens N`.
      Prepaid tokens (top-up) are used after the daily allowance.
      """,
    subcommands: [Create.self, List.self, Revoke.self, SetTier.self, TopUp.self, TierCommand.self])

  struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a key and print its secret (shown once).")
    @OptionGroup var db: AccountsOptions
    @Option(help: "A name to tell the key apart.") var name = "key"
    @Option(help: "The key's tier.") var tier = "free"
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let (secret, key) = try wrap { try KeyStore(db.open()).create(name: name, tier: tier) }
      if json {
        printJSON(["id": key.id, "secret": secret, "name": key.name, "tier": key.tier])
      } else {
        print("created \(key.id) (\(key.name), tier \(key.tier))")
        print("secret: \(secret)")
        print("Keep the secret now: only its hash is stored.")
      }
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List keys with tier, allowance left and prepaid tokens.")
    @OptionGroup var db: AccountsOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let database = try db.open()
      let store = KeyStore(database)
      let ledger = QuotaLedger(database)
      let keys = try wrap { try store.list() }
      var rows: [[String]] = [["id", "name", "prefix", "tier", "left today", "prepaid", "status"]]
      var objects: [[String: String]] = []
      for k in keys {
        let tier = try wrap { try store.tier(named: k.tier) }
        let status = try wrap { try ledger.status(Principal(id: k.id, kind: .storedKey, tier: tier)) }
        let left = status.remainingTokens.map(String.init) ?? "unlimited"
        let state = k.revokedAt == nil ? "active" : "revoked"
        rows.append([k.id, k.name, k.prefix, k.tier, left, String(k.packTokens), state])
        objects.append([
          "id": k.id, "name": k.name, "prefix": k.prefix, "tier": k.tier, "remaining_tokens": left,
          "pack_tokens": String(k.packTokens), "status": state,
        ])
      }
      if json { printJSON(objects) } else { printTable(rows) }
    }
  }

  struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Revoke a key: its requests get 401 from then on.")
    @OptionGroup var db: AccountsOptions
    @Argument(help: "The key's id (key_…).") var id: String

    func run() throws {
      try wrap { try KeyStore(db.open()).revoke(id: id) }
      print("revoked \(id)")
    }
  }

  struct SetTier: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set-tier", abstract: "Move a key to another tier.")
    @OptionGroup var db: AccountsOptions
    @Argument(help: "The key's id (key_…).") var id: String
    @Argument(help: "The tier's name.") var tier: String

    func run() throws {
      try wrap { try KeyStore(db.open()).setTier(id: id, tier: tier) }
      print("\(id) is now in tier \(tier)")
    }
  }

  struct TopUp: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "top-up", abstract: "Add a prepaid token pack to a key (used after its daily allowance).")
    @OptionGroup var db: AccountsOptions
    @Argument(help: "The key's id (key_…).") var id: String
    @Argument(help: "Tokens to add.") var tokens: Int

    func run() throws {
      let store = try db.open()
      try wrap { try KeyStore(store).topUp(id: id, tokens: tokens) }
      print("\(id): \(try wrap { try KeyStore(store).key(id: id).packTokens }) prepaid tokens")
    }
  }

  struct TierCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "tier", abstract: "List tiers, or create/change one.")
    @OptionGroup var db: AccountsOptions
    @Argument(help: "A tier to create or change (omit to list them).") var name: String?
    @Option(name: .customLong("daily-tokens"), help: "Tokens per rolling 24 hours ('unlimited' for none).")
    var dailyTokens: String?
    @Option(name: .customLong("requests-per-minute"), help: "Requests per rolling minute ('unlimited' for none).")
    var requestsPerMinute: String?

    func run() throws {
      let store = KeyStore(try db.open())
      if let name {
        var tier = (try? store.tier(named: name)) ?? Tier(name: name, dailyTokens: nil)
        if let dailyTokens { tier.dailyTokens = try Self.limit(dailyTokens, "--daily-tokens") }
        if let requestsPerMinute { tier.requestsPerMinute = try Self.limit(requestsPerMinute, "--requests-per-minute") }
        try wrap { try store.setTier(tier) }
      }
      var rows = [["tier", "daily tokens", "requests/min"]]
      for t in try wrap({ try store.tiers() }) {
        rows.append([
          t.name, t.dailyTokens.map(String.init) ?? "unlimited", t.requestsPerMinute.map(String.init) ?? "unlimited",
        ])
      }
      printTable(rows)
    }

    static func limit(_ text: String, _ option: String) throws -> Int? {
      if text == "unlimited" { return nil }
      guard let n = Int(text), n >= 0 else { throw ValidationError("\(option): a number ≥ 0 or 'unlimited'") }
      return n
    }
  }
}

/// Runs an accounts call, turning its errors into the CLI's plain messages.
func wrap<T>(_ body: () throws -> T) throws -> T {
  do { return try body() } catch { throw CLIError(error) }
}


func printJSON(_ value: some Encodable) {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  print(String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self))
}
