import Foundation
import Models
import TestSupport
import Testing

/// A single-sequence state reused for a new prompt (as `Generator` does between calls) must give the
/// logits a fresh state gives: the new prompt's length decides each position's attention kernel and
/// product order, and positions the old prompt computed otherwise are recomputed.
@Suite("Prefix reuse of a single-sequence state")
struct PrefixReuseTests {
  func logits(_ model: any LanguageModel, _ state: ModelState, _ tokens: [Int32]) throws -> [UInt32] {
    Array(try model.forward(tokens, state: state, logits: .last).row(0)).map(\.bitPattern)
  }

  @Test(arguments: ["smollm2-135m", "gemma3-270m"])
  func reusedStateEqualsAFreshOne(name: String) throws {
    let model = try TestModels.model(name)
    // Token ids valid in both vocabularies; the first prompt is long enough (≥ 64) for f32 attention.
    let a: [Int32] = [2] + (0..<90).map { Int32(300 + ($0 * 37) % 1500) }
    let b: [Int32] = Array(a[..<70]) + (0..<50).map { Int32(2000 + ($0 * 11) % 900) }
    let fresh = try logits(model, model.makeState(maxTokens: 256), b)

    let state = model.makeState(maxTokens: 256)
    _ = try model.forward(a, state: state, logits: .last)
    let kept = model.reusePrefix(of: state, common: 70, promptLength: b.count)
    #expect(kept > 0 && kept <= 70, "kept \(kept)")
    let reused = try logits(model, state, Array(b[kept...]))
    #expect(reused == fresh, "\(name): logits after reusing \(kept) positions differ from a fresh state's")

    // A short prompt after a long one: every position of a short prompt attends as llama.cpp's
    // decode does, so nothing the long prompt computed in f32 can be kept.
    let short = Array(a[..<40])
    let freshShort = try logits(model, model.makeState(maxTokens: 256), short)
    let again = model.makeState(maxTokens: 256)
    _ = try model.forward(a, state: again, logits: .last)
    let keptShort = model.reusePrefix(of: again, common: 39, promptLength: short.count)
    #expect(keptShort == 0)
    #expect(try logits(model, again, Array(short[keptShort...])) == freshShort)
  }
}
