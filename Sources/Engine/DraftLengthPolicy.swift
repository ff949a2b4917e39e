/// Chooses how many draft tokens the next target pass should check, from what passes of each size
/// have cost on this machine and how often drafts of each kind were accepted.
///
/// Checking k drafts emits 1 + p + … + p^k tokens on average (p: the chance a draft is accepted,
/// each acceptance conditional on the one before), and costs k draft tokens plus one target pass
/// of k + 1 rows. On a CPU a pass's cost is not flat in its rows: up to one register tile of rows
/// (4 with AVX-512) it is close to a single row's, past it nearly in proportion, and under the exact
/// summation order even 2–4 rows cost noticeably more than one. The policy measures those costs as
/// they happen (wall time, so it also sees the machine's load) and takes the k with the most tokens
/// per second; k = 0 is a plain decode step.
///
/// Kinds separate proposals of different quality: prompt lookup passes the length of the n-gram it
/// matched (a 3-token match is far more often right than a 1-token one), a draft model passes 0
/// (the only kind whose drafts cost time to make).
/// Data only: the caller times passes and reports them.
public struct DraftLengthPolicy: Sendable {
  /// Drafts per pass at most.
  public let maxDraft: Int
  /// Estimated nanoseconds of a target pass of r rows (index r), nil until one was measured.
  private(set) var passCost: [Double?]
  /// Passes of r rows measured so far.
  private(set) var passSamples: [Int]
  /// Estimated nanoseconds the proposer spends per drafted token (0 for prompt lookup).
  private(set) var draftCost: Double = 0
  private var draftSamples = 0
  /// Decayed counts of accepted and rejected drafts per kind.
  private var accepted: [Int: Double] = [:]
  private var rejected: [Int: Double] = [:]
  private var decisions = 0

  /// Weight of a new timing in the running estimates.
  static let costWeight = 0.2
  /// Per verification, older acceptance counts keep this share (recent behaviour counts most).
  static let acceptanceDecay = 0.95
  /// Every this many decisions one goes to a neighbouring length, so the estimates of lengths not
  /// currently chosen follow the machine's load.
  public static let probeInterval = 16

  public init(maxDraft: Int) {
    self.maxDraft = max(0, maxDraft)
    passCost = Array(repeating: nil, count: self.maxDraft + 2)
    passSamples = Array(repeating: 0, count: self.maxDraft + 2)
  }

  /// The chance a draft of `kind` is accepted: decayed counts with one pseudo-count each way.
  public func acceptance(kind: Int) -> Double {
    let a = accepted[kind] ?? 0, r = rejected[kind] ?? 0
    return (a + 1) / (a + r + 2)
  }

  /// Expected tokens a pass emits when it checks `k` drafts accepted with chance `p` each.
  public static func expectedTokens(drafts k: Int, acceptance p: Double) -> Double {
    var sum = 1.0, term = 1.0
    for _ in 0..<max(0, k) {
      term *= p
      sum += term
    }
    return sum
  }

  /// The estimated cost of a pass of `rows` rows: measured if it was, otherwise from the nearest
  /// measured size, assuming 10 % more per extra row. That is optimistic (a row past the register
  /// tile costs far more), so a size whose turn might have come gets tried and then measured.
  public func estimatedPassCost(rows: Int) -> Double? {
    if let c = passCost[rows] { return c }
    let scale = { (r: Int) in 1 + 0.1 * Double(r - 1) }
    var best: (distance: Int, cost: Double)? = nil
    for (r, c) in passCost.enumerated() {
      guard let c else { continue }
      let d = abs(r - rows)
      if best == nil || d < best!.distance { best = (d, c * scale(rows) / scale(r)) }
    }
    return best?.cost
  }

  /// Expected tokens per nanosecond of a pass checking `drafts` drafts of `kind`, drafting
  /// included; nil before any pass was measured. Only kind 0 (a draft model) pays per draft token:
  /// prompt lookup's kinds (its match lengths, ≥ 1) are free to propose.
  public func rate(kind: Int, drafts k: Int) -> Double? {
    guard let pass = estimatedPassCost(rows: k + 1) else { return nil }
    let drafting = kind == 0 ? Double(k) * draftCost : 0
    return Self.expectedTokens(drafts: k, acceptance: acceptance(kind: kind)) / (pass + drafting)
  }

  /// Drafts to check next, between 0 and `available` (what the proposer has, or may make).
  public mutating func length(kind: Int, available: Int) -> Int {
    let limit = min(available, maxDraft)
    guard limit > 0 else { return 0 }
    decisions += 1
    // Nothing measured yet: a plain pass gives the base cost the others are first estimated from.
    guard passSamples.contains(where: { $0 > 0 }) else { return 0 }
    var best = 0
    var bestRate = -1.0
    for k in 0...limit {
      guard let rate = rate(kind: kind, drafts: k) else { continue }
      if rate > bestRate {
        bestRate = rate
        best = k
      }
    }
    if decisions % Self.probeInterval == 0 {
      // Alternate between one more and one fewer than the best, within bounds.
      let up = (decisions / Self.probeInterval) % 2 == 0
      let probe = up ? best + 1 : best - 1
      if probe >= 0 && probe <= limit { return probe }
    }
    return best
  }

  /// A target pass of `rows` rows took `nanoseconds`.
  public mutating func recordPass(rows: Int, nanoseconds: UInt64) {
    guard rows >= 1 && rows < passCost.count else { return }
    var t = Double(nanoseconds)
    if let old = passCost[rows] {
      // One slice lost to another process can take many times a pass; cap such outliers.
      t = min(t, 2 * old)
      passCost[rows] = old + Self.costWeight * (t - old)
    } else {
      passCost[rows] = t
    }
    passSamples[rows] += 1
  }

  /// The proposer took `nanoseconds` to draft `tokens` tokens.
  public mutating func recordDraft(tokens: Int, nanoseconds: UInt64) {
    guard tokens > 0 else { return }
    let t = Double(nanoseconds) / Double(tokens)
    draftCost = draftSamples == 0 ? t : draftCost + Self.costWeight * (min(t, 2 * draftCost) - draftCost)
    draftSamples += 1
  }

  /// Of the drafts of `kind` checked in one pass, the first `kept` were accepted, and the next one
  /// (if `rejectedOne`) was not; drafts after a rejection were never examined and say nothing.
  public mutating func recordVerification(kind: Int, kept: Int, rejectedOne: Bool) {
    let decay = Self.acceptanceDecay
    accepted[kind] = (accepted[kind] ?? 0) * decay + Double(kept)
    rejected[kind] = (rejected[kind] ?? 0) * decay + (rejectedOne ? 1 : 0)
  }
}
