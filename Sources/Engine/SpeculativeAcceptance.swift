/// The rule that keeps speculative decoding exact: a draft token x proposed with probability q(x) is
/// accepted with probability min(1, p(x)/q(x)) under the target's distribution p; on rejection the
/// token is drawn from max(0, p − q), renormalised. The output is then distributed exactly as p.
/// Greedy targets (a single token of probability 1) accept only their own choice.
public enum SpeculativeAcceptance {
  /// nil when the draft is accepted, otherwise the token to emit instead.
  public static func check(target p: [(id: Int32, p: Float)], draft: DraftToken, sampler: inout Sampler) -> Int32? {
    if p.count == 1 { return p[0].id == draft.id ? nil : p[0].id }
    let px = p.first { $0.id == draft.id }?.p ?? 0
    let qx = draft.probability(of: draft.id)
    if qx > 0 && sampler.uniform() < min(1, px / qx) { return nil }
    var residual = p.map { (id: $0.id, p: max(0, $0.p - draft.probability(of: $0.id))) }
    let mass = residual.reduce(0) { $0 + $1.p }
    guard mass > 0 else { return sampler.draw(p) }
    residual = residual.map { (id: $0.id, p: $0.p / mass) }
    return sampler.draw(residual)
  }
}
