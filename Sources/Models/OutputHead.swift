import Foundation
import Kernels

/// The last step every architecture shares: final RMSNorm of the rows a batch wants logits for
/// (gathered to the front of `scratch`), projection onto the vocabulary, optional soft-capping.
struct OutputHead {
  let norm: [Float]  // [d]
  let eps: Float
  let weights: WeightMatrix  // [vocab, d]
  let vocabularySize: Int
  /// Logits become `cap * tanh(logit / cap)` when set (Gemma's final soft-capping).
  var softcap: Float? = nil

  /// x: [nTokens, d] residual stream; scratch: room for [logitRows, d].
  func logits(
    x: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, batch: ForwardBatch, width d: Int, pool: ThreadPool
  ) -> Logits {
    let outRows = batch.logitRows
    var row = 0
    norm.withUnsafeBufferPointer { w in
      for slice in batch.slices where slice.logits != nil {
        let first = slice.logits == .all ? 0 : slice.tokenCount - 1
        for j in first..<slice.tokenCount {
          rmsNorm(x + (slice.tokenOffset + j) * d, w.baseAddress!, scratch + row * d, d, eps: eps)
          row += 1
        }
      }
    }
    var values = [Float](repeating: 0, count: outRows * vocabularySize)  // [outRows, vocab]
    if outRows > 0 {
      values.withUnsafeMutableBufferPointer { out in
        matmul(weights, scratch, out.baseAddress!, n: outRows, pool: pool)
        if let cap = softcap {
          for i in 0..<out.count { out[i] = cap * tanhf(out[i] / cap) }
        }
      }
    }
    return Logits(rows: outRows, vocabularySize: vocabularySize, values: values)
  }
}
