import Engine
import Testing

/// The draft length follows measured pass costs and acceptance; data only, no model.
@Suite("Draft length policy")
struct DraftLengthPolicyTests {
  /// A policy that has seen passes of 1...rows.count rows cost `rows[r - 1]` milliseconds.
  func policy(maxDraft: Int, costs: [Double]) -> DraftLengthPolicy {
    var p = DraftLengthPolicy(maxDraft: maxDraft)
    for (i, ms) in costs.enumerated() { p.recordPass(rows: i + 1, nanoseconds: UInt64(ms * 1e6)) }
    return p
  }

  @Test func expectedTokensIsTheGeometricSum() {
    #expect(DraftLengthPolicy.expectedTokens(drafts: 0, acceptance: 0.7) == 1)
    #expect(abs(DraftLengthPolicy.expectedTokens(drafts: 2, acceptance: 0.5) - 1.75) < 1e-12)
    #expect(DraftLengthPolicy.expectedTokens(drafts: 5, acceptance: 1) == 6)
  }

  @Test func startsWithAPlainPass() {
    var p = DraftLengthPolicy(maxDraft: 6)
    #expect(p.length(kind: 0, available: 6) == 0)
  }

  @Test func staysInsideTheTileWhenRowsPastItAreExpensive() {
    // One 4-row tile costs 1.3× a row, every row past it nearly a full row more.
    var p = policy(maxDraft: 6, costs: [4, 4.4, 4.8, 5.2, 8.5, 11.5, 14.5])
    for _ in 0..<30 { p.recordVerification(kind: 0, kept: 6, rejectedOne: false) }
    #expect(p.acceptance(kind: 0) > 0.95)
    #expect(p.length(kind: 0, available: 6) == 3)
    // Fewer available than the best length: all of them.
    #expect(p.length(kind: 0, available: 2) == 2)
  }

  @Test func takesLongDraftsWhenRowsAreCheap() {
    var p = policy(maxDraft: 6, costs: [4, 4.1, 4.2, 4.3, 4.4, 4.5, 4.6])
    for _ in 0..<30 { p.recordVerification(kind: 0, kept: 6, rejectedOne: false) }
    #expect(p.length(kind: 0, available: 6) == 6)
  }

  @Test func draftCostShortensTheDraft() {
    // Flat pass costs and even odds: free drafts would go to the maximum, but at a quarter of a pass
    // per drafted token one draft (1.5 tokens for 1.25 passes) beats two (1.75 for 1.5) and none.
    var free = policy(maxDraft: 6, costs: [4, 4, 4, 4, 4, 4, 4])
    for _ in 0..<60 { free.recordVerification(kind: 0, kept: 1, rejectedOne: true) }
    #expect(free.acceptance(kind: 0) == 0.5)
    var paid = free
    #expect(free.length(kind: 0, available: 6) == 6)
    paid.recordDraft(tokens: 2, nanoseconds: 2_000_000)
    #expect(paid.length(kind: 0, available: 6) == 1)
  }

  @Test func poorAcceptanceDecodesPlainly() {
    var p = policy(maxDraft: 6, costs: [4, 5.2, 6.4])
    for _ in 0..<30 { p.recordVerification(kind: 1, kept: 0, rejectedOne: true) }
    #expect(p.length(kind: 1, available: 6) == 0)
  }

  @Test func kindsKeepTheirOwnAcceptance() {
    var p = policy(maxDraft: 6, costs: [4, 4.4, 4.8, 5.2])
    for _ in 0..<30 {
      p.recordVerification(kind: 1, kept: 0, rejectedOne: true)
      p.recordVerification(kind: 3, kept: 3, rejectedOne: false)
    }
    #expect(p.length(kind: 1, available: 3) == 0)
    #expect(p.length(kind: 3, available: 3) == 3)
    #expect(p.acceptance(kind: 2) == 0.5)  // never seen: the prior
  }

  @Test func unmeasuredLargerPassesGetTried() {
    // Only single rows measured; with full acceptance the optimistic estimate picks the maximum,
    // so its real cost gets measured.
    var p = policy(maxDraft: 4, costs: [4])
    for _ in 0..<30 { p.recordVerification(kind: 0, kept: 4, rejectedOne: false) }
    #expect(p.length(kind: 0, available: 4) == 4)
  }

  @Test func probesANeighbourNowAndThen() {
    var p = policy(maxDraft: 6, costs: [4, 4.4, 4.8, 5.2, 8.5, 11.5, 14.5])
    for _ in 0..<30 { p.recordVerification(kind: 0, kept: 6, rejectedOne: false) }
    let choices = (0..<DraftLengthPolicy.probeInterval * 2).map { _ in p.length(kind: 0, available: 6) }
    #expect(choices.filter { $0 == 3 }.count == choices.count - 2)
    #expect(Set(choices) == [2, 3, 4])
  }

  @Test func anOutlierPassMovesTheEstimateBoundedly() {
    var p = policy(maxDraft: 2, costs: [4])
    p.recordPass(rows: 1, nanoseconds: 400_000_000)  // a 100× stall: counted as 2×
    let c = p.estimatedPassCost(rows: 1) ?? 0
    #expect(abs(c - 4.8e6) < 1)
  }
}

@Suite("Prompt lookup")
struct NGramProposerTests {
  @Test func reportsTheLongestMatchAndWhatFollowed() {
    let p = NGramProposer()
    let (drafts, n) = p.proposeMatching(history: [1, 2, 3, 9, 8, 7, 5, 2, 3], count: 2)
    #expect(drafts.map(\.id) == [9, 8])
    #expect(n == 2)
    let (none, zero) = p.proposeMatching(history: [1, 2, 3], count: 4)
    #expect(none.isEmpty && zero == 0)
    let (single, one) = p.proposeMatching(history: [4, 6, 4], count: 4)
    #expect(single.map(\.id) == [6, 4] && one == 1)
  }

  @Test func skipsATokenTheSourceDoesNotHave() {
    let p = NGramProposer(skipsInsertions: true)
    // The copy "… 5 6 [0] …" added 0 after "5 6"; the source went on with 7 8 9.
    let source: [Int32] = [1, 5, 6, 7, 8, 9, 2]
    let (drafts, kind) = p.proposeMatching(history: source + [3, 5, 6, 0], count: 3)
    #expect(drafts.map(\.id) == [7, 8, 9])
    #expect(kind == NGramProposer.insertionKind(2))
    // A direct match of two or more tokens wins over skipping one.
    let (direct, n) = p.proposeMatching(history: source + [3, 5, 6, 7], count: 2)
    #expect(direct.map(\.id) == [8, 9] && n == 3)
    // A single-token direct match yields to a longer match before the last token…
    let (skip, k) = p.proposeMatching(history: source + [3, 5, 6, 9], count: 2)
    #expect(skip.map(\.id) == [7, 8] && k == NGramProposer.insertionKind(2))
    // …and stays when there is none.
    let (alone, one) = p.proposeMatching(history: [4, 6, 3, 4], count: 2)
    #expect(alone.map(\.id) == [6, 3] && one == 1)
    // Off by default: the single-token match.
    let (plain, single) = NGramProposer().proposeMatching(history: source + [3, 5, 6, 9], count: 2)
    #expect(plain.map(\.id) == [2, 3] && single == 1)
  }
}
