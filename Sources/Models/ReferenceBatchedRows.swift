import GGUF
import Kernels

/// Per token of a forward pass, whether llama.cpp multiplied it by Q4_K and by Q5_K / Q6_K weights
/// in a batch (`BatchSlice.referenceBatched`, from the token's position and its slice's prompt
/// length), as the flags `matmul` takes (`BatchedOrderRows`).
struct ReferenceBatchedRows {
  var q4K: [Bool]  // [n]
  var q5KQ6K: [Bool]  // [n]

  /// `logitRowsOnly`: the last layer's feed-forward block, where llama.cpp keeps only the rows that
  /// need logits, so a slice asking for its last token's logits runs that row alone (one-row order).
  init(_ batch: ForwardBatch, placement: TokenPlacement, checkpointCuts: Bool, logitRowsOnly: Bool = false) {
    let n = batch.tokens.count
    q4K = [Bool](repeating: false, count: n)
    q5KQ6K = q4K
    for slice in batch.slices where !(logitRowsOnly && slice.logits == .last) {
      for j in 0..<slice.tokenCount {
        let t = slice.tokenOffset + j
        let p = placement.position[t]
        q4K[t] = BatchSlice.referenceBatched(
          .q4_K, position: p, promptLength: slice.promptLength, checkpointCuts: checkpointCuts)
        q5KQ6K[t] = BatchSlice.referenceBatched(
          .q6_K, position: p, promptLength: slice.promptLength, checkpointCuts: checkpointCuts)
      }
    }
  }

  /// Runs `body` with the flags as `matmul`'s `batched` argument.
  func withRows<R>(_ body: (BatchedOrderRows) -> R) -> R {
    q4K.withUnsafeBufferPointer { a in
      q5KQ6K.withUnsafeBufferPointer { b in body(BatchedOrderRows(q4K: a.baseAddress!, q5KQ6K: b.baseAddress!)) }
    }
  }
}
