import Accounts
import Foundation
import Logging

/// Who is asking and what it costs: authentication to a `Principal`, allowance reservations before
/// a request is queued, cost per request, and settlement when it ends. The accounts target holds
/// the arithmetic and the database; this is where HTTP requests meet it.
final class Metering: Sendable {
  let settings: EconomicsSettings
  let accounts: AccountsDatabase?
  let staticKeys: APIKeyCheck
  let clock = MachineCostClock()
  let results: ResultCache<CachedResult>
  private let totals = LockedBox(Totals())
  private let logger: Logger

  struct Totals: Sendable {
    var billedDollars = 0.0
    var machineDollars = 0.0
    var outputTokens = 0
    var refusals = 0
  }

  init(settings: EconomicsSettings, accounts: AccountsDatabase?, staticKeys: APIKeyCheck, logger: Logger) {
    self.settings = settings
    self.accounts = accounts
    self.staticKeys = staticKeys
    self.logger = logger
    results = ResultCache(capacityBytes: settings.resultCacheBytes, timeToLive: settings.resultCacheTTL)
  }

  var snapshot: Totals { totals.current }

  // MARK: Authentication

  /// The principal a request runs as, or 401. `authorization` is the `Authorization` header,
  /// `apiKeyHeader` Anthropic-style `x-api-key`; `clientAddress` meters anonymous callers.
  func authenticate(authorization: String?, apiKeyHeader: String?, clientAddress: String?) throws(APIError)
    -> Principal
  {
    let presented = Self.bearer(authorization) ?? apiKeyHeader.flatMap { $0.isEmpty ? nil : $0 }
    if let presented {
      if let admin = settings.adminKey,
        APIKeyCheck.constantTimeEqual(Array(admin.utf8), Array(presented.utf8))
      {
        return Principal(id: "admin", kind: .admin, tier: .unlimited)
      }
      if let key = staticKeys.matchingKey(authorization: "Bearer " + presented) {
        return Principal(id: staticKeys.keyID(key), kind: .staticKey, tier: .unlimited)
      }
      if let accounts {
        do {
          if let (key, tier) = try KeyStore(accounts).authenticate(secret: presented) {
            return Principal(id: key.id, kind: .storedKey, tier: tier)
          }
        } catch {
          logger.error("key store unreadable: \(error)")
          throw .unavailable("The key store cannot be read right now; retry shortly.")
        }
      }
      // A server with no keys at all ignores whatever key a client sends, as llama-server and vLLM
      // do without --api-key (OpenAI clients always send one).
      if try keysRequired() { throw .unauthorized() }
    }
    if settings.allowAnonymous, let accounts {
      var tier = (try? KeyStore(accounts).tier(named: Tier.anonymous.name)) ?? .anonymous
      if let tokens = settings.anonymousDailyTokens { tier.dailyTokens = tokens }
      return Principal(id: accounts.digest.clientID(clientAddress ?? "unknown"), kind: .anonymous, tier: tier)
    }
    if try keysRequired() { throw .unauthorized() }
    return .open
  }

  /// Whether a key is required: static keys were given, or keys were ever created in the database
  /// (then every server on it requires one; a server whose keys were all revoked stays closed
  /// rather than opening to everyone). A database that cannot answer keeps the server closed too
  /// (503), never open.
  private func keysRequired() throws(APIError) -> Bool {
    if staticKeys.enabled { return true }
    guard let accounts else { return false }
    do {
      return try KeyStore(accounts).anyKeyExists()
    } catch {
      logger.error("key store unreadable: \(error)")
      throw .unavailable("The key store cannot be read right now; retry shortly.")
    }
  }

  static func bearer(_ header: String?) -> String? {
    guard let header else { return nil }
    let prefix = "bearer "
    guard header.count > prefix.count, header.lowercased().hasPrefix(prefix) else { return nil }
    return String(header.dropFirst(prefix.count))
  }

  // MARK: Reservation and settlement

  /// Holds prompt tokens plus the most the request may generate against the caller's allowance,
  /// or refuses with 429 (`insufficient_quota` / `rate_limit_exceeded`) and OpenAI's headers. A
  /// request that left `max_tokens` to the default is shrunk to what the allowance still covers.
  func reserve(_ plan: inout GenerationPlan, principal: Principal, requestID: String) async throws(APIError)
    -> Reservation?
  {
    guard let accounts else { return nil }
    let ledger = QuotaLedger(accounts)
    let prompt = plan.promptTokenCounts.reduce(0, +)
    if plan.defaultedMaxTokens, principal.isMetered, let left = try? ledger.status(principal).remainingTokens {
      let room = (left - prompt) / max(1, plan.requests.count)
      if room >= 1 {
        for i in plan.requests.indices { plan.requests[i].maxTokens = min(plan.requests[i].maxTokens, room) }
      }
    }
    let tokens = prompt + plan.requests.reduce(0) { $0 + $1.maxTokens }
    do {
      return try await ledger.reserve(principal, tokens: tokens, requestID: requestID)
    } catch let refusal as AccountsError {
      totals.withLock { $0.refusals += 1 }
      throw APIError(refusal)
    } catch {
      logger.error("allowance not reserved: \(error)")
      throw .unavailable("The usage database cannot be written right now; retry shortly.")
    }
  }

  /// Gives back a reservation whose request never ran.
  func release(_ reservation: Reservation?) async {
    guard let accounts, let reservation else { return }
    do { try await QuotaLedger(accounts).release(reservation) } catch {
      logger.error("reservation not released: \(error)")
    }
  }

  /// The price of a request, and its share of the machine's cost; nil when the server prices nothing.
  func cost(promptTokens: Int, cachedTokens: Int, completionTokens: Int, machineSeconds: Double, batch: Bool = false)
    -> Cost?
  {
    let machine = settings.machineCostPerHour.map { $0 * machineSeconds / 3600 }
    guard settings.prices != nil || machine != nil else { return nil }
    var c =
      settings.prices?.cost(
        promptTokens: promptTokens, cachedTokens: cachedTokens, completionTokens: completionTokens, batch: batch)
      ?? .zero
    c.machine = machine ?? 0
    return c
  }

  /// Counts a settled request in the process totals (`/metrics`) without writing it: batch lines
  /// commit their usage row together with their result.
  func count(_ record: UsageRecord) {
    totals.withLock {
      $0.billedDollars += record.cost.total
      $0.machineDollars += record.cost.machine
      $0.outputTokens += record.completionTokens
    }
  }

  /// Records a finished request and releases its reservation in one transaction; the row id, or
  /// nil without a database (or if it failed, which costs a log line, not the response).
  func settle(_ reservation: Reservation?, record: UsageRecord) -> Int64? {
    count(record)
    guard let accounts else { return nil }
    do { return try QuotaLedger(accounts).settleNow(reservation, record: record).id } catch {
      logger.error("usage record not stored: \(error)")
      return nil
    }
  }
}

extension APIError {
  /// 429 as OpenAI sends it when a quota or rate limit is reached, with the rate-limit headers.
  init(_ refusal: AccountsError) {
    switch refusal {
    case .insufficientQuota(let status, _):
      self = APIError(
        status: 429, message: refusal.description, type: "insufficient_quota", param: nil,
        code: "insufficient_quota", retryAfter: status.retryAfterSeconds)
      headers = status.headerFields
    case .rateLimited(let status):
      self = APIError(
        status: 429, message: refusal.description, type: "requests", param: nil, code: "rate_limit_exceeded",
        retryAfter: status.retryAfterSeconds)
      headers = status.headerFields
    case .unknownKey, .unknownTier, .invalid:
      self = .invalidParameter(nil, refusal.description)
    case .database:
      self = .unavailable(refusal.description)
    }
  }
}

extension QuotaStatus {
  /// The rate-limit headers as a dictionary (what `APIError` and responses carry).
  var headerFields: [String: String] {
    Dictionary(headers.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
  }
}
