import Foundation
import Testing

@testable import Accounts

@Suite struct AllowanceTests {
  let now = Date(timeIntervalSince1970: 1_000_000)

  @Test func remainingCountsChargesReservationsAndPack() {
    let a = Allowance(
      tier: .free, now: now, usedDaily: 4_000, oldestChargeAt: now.addingTimeInterval(-3600), reserved: 700, pack: 500)
    let s = a.status
    #expect(s.limitTokens == 5_000)
    #expect(s.remainingTokens == 1_000 + 500 - 700)
    #expect(s.tokensResetAt == now.addingTimeInterval(23 * 3600))
    #expect(a.admit(tokens: 800) == nil)
    #expect(a.admit(tokens: 801) == .insufficientQuota(s, requested: 801))
  }

  @Test func unlimitedTierAdmitsEverythingAndSendsNoHeaders() {
    let a = Allowance(tier: .unlimited, now: now, usedDaily: 10_000_000)
    #expect(a.admit(tokens: Int.max) == nil)
    #expect(a.status.headers.isEmpty)
    #expect(a.split(charge: 42) == (42, 0))
  }

  @Test func chargeTakesDailyAllowanceBeforePack() {
    let a = Allowance(tier: .anonymous, now: now, usedDaily: 2_000, pack: 1_000)
    #expect(a.split(charge: 300) == (300, 0))
    #expect(a.split(charge: 700) == (500, 200))
    // More than both can cover (only possible for work that was never reserved): the pack empties.
    #expect(a.split(charge: 2_000) == (1_000, 1_000))
  }

  @Test func requestsPerMinute() {
    let tier = Tier(name: "rpm", dailyTokens: nil, requestsPerMinute: 3)
    let a = Allowance(tier: tier, now: now, recentRequests: 3, oldestRequestAt: now.addingTimeInterval(-20))
    guard case .rateLimited(let s)? = a.admit(tokens: 1) else {
      Issue.record("expected a rate limit")
      return
    }
    #expect(s.requestsResetAt == now.addingTimeInterval(40))
    #expect(s.retryAfterSeconds == 40)
    #expect(s.headers.map(\.name) == ["x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
      "x-ratelimit-reset-requests"])
  }

  @Test func durationsAsOpenAIWritesThem() {
    #expect(QuotaStatus.duration(0.02) == "20ms")
    #expect(QuotaStatus.duration(1) == "1s")
    #expect(QuotaStatus.duration(360) == "6m0s")
    #expect(QuotaStatus.duration(3723.2) == "1h2m4s")
    #expect(QuotaStatus.duration(-5) == "0ms")
  }

  @Test func insufficientQuotaMessageSaysWhatIsLeftAndWhen() {
    let a = Allowance(tier: .free, now: now, usedDaily: 4_900, oldestChargeAt: now.addingTimeInterval(-60))
    let text = String(describing: a.admit(tokens: 300)!)
    #expect(text.contains("only 100 are left"))
    #expect(text.contains("5000-token daily allowance"))
    #expect(text.contains("23h59m0s"))
  }
}

@Suite struct PriceTableTests {
  @Test func parsesAndPrices() throws {
    let p = try PriceTable.parse("input=0.10, output=0.40,cached=0.05")
    #expect(p == PriceTable(input: 0.10, output: 0.40, cached: 0.05))
    let c = p.cost(promptTokens: 1_000_000, cachedTokens: 400_000, completionTokens: 500_000)
    #expect(abs(c.input - (0.6 * 0.10 + 0.4 * 0.05)) < 1e-12)
    #expect(abs(c.output - 0.20) < 1e-12)
    #expect(abs(c.total - 0.28) < 1e-12)
    var batch = p
    batch.batchDiscount = 0.5
    #expect(abs(batch.cost(promptTokens: 10, cachedTokens: 0, completionTokens: 10, batch: true).total - 2.5e-6) < 1e-15)
  }

  @Test func cachedDefaultsToInputAndBadTextIsRefused() throws {
    #expect(try PriceTable.parse("output=2,input=1").cached == 1)
    #expect(throws: AccountsError.self) { try PriceTable.parse("input=1") }
    #expect(throws: AccountsError.self) { try PriceTable.parse("input=-1,output=2") }
    #expect(throws: AccountsError.self) { try PriceTable.parse("input=1,output=2,bogus=3") }
    #expect(throws: AccountsError.self) { try PriceTable.parse("input=nan,output=2") }
    #expect(throws: AccountsError.self) { try PriceTable.parse("input=1,output=inf") }
  }

  @Test func pricesFromAFileAreCheckedLikeFlagText() throws {
    #expect(try PriceTable.validated(input: 1, output: 2, cached: nil) == PriceTable.parse("input=1,output=2"))
    #expect(try PriceTable.validated(input: 1, output: 2, cached: 0.5).cached == 0.5)
    #expect(throws: AccountsError.self) { try PriceTable.validated(input: nil, output: 2, cached: nil) }
    #expect(throws: AccountsError.self) { try PriceTable.validated(input: 1, output: 2, cached: -0.1) }
    #expect(throws: AccountsError.self) { try PriceTable.validated(input: .infinity, output: 2, cached: nil) }
  }
}
