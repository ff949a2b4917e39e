import Models
import Testing

/// How llama.cpp's server batched each prompt position decides which float order a Gemma 3 position
/// takes under `.exact`; these pin the rule down on hand-worked prompts.
@Suite("llama-server's prompt micro-batches and the batched-order code")
struct ReferenceBatchingTests {
  @Test func microBatchesEndBeforeTheCheckpoints() {
    // 1,472 tokens: batches [0, 956) (ends 516 before the end), [956, 1468), [1468, 1472); each
    // split into micro-batches of 512 from its start.
    let n = 1472
    #expect(BatchSlice.referenceMicroBatch(containing: 0, promptLength: n) == (0, 512))
    #expect(BatchSlice.referenceMicroBatch(containing: 955, promptLength: n) == (512, 444))
    #expect(BatchSlice.referenceMicroBatch(containing: 956, promptLength: n) == (956, 512))
    #expect(BatchSlice.referenceMicroBatch(containing: 1467, promptLength: n) == (956, 512))
    #expect(BatchSlice.referenceMicroBatch(containing: 1468, promptLength: n) == (1468, 4))
    #expect(BatchSlice.referenceMicroBatch(containing: 1471, promptLength: n) == (1468, 4))
    // Short prompts: only the cut 4 before the end applies.
    #expect(BatchSlice.referenceMicroBatch(containing: 1, promptLength: 6) == (0, 2))
    #expect(BatchSlice.referenceMicroBatch(containing: 3, promptLength: 6) == (2, 4))
    // Batches hold at most 2,048 positions: 5,000 tokens run as [0, 2048), [2048, 4096), [4096, 4484),
    // [4484, 4996), [4996, 5000).
    #expect(BatchSlice.referenceMicroBatch(containing: 2047, promptLength: 5000) == (1536, 512))
    #expect(BatchSlice.referenceMicroBatch(containing: 4100, promptLength: 5000) == (4096, 388))
    #expect(BatchSlice.referenceMicroBatch(containing: 4996, promptLength: 5000) == (4996, 4))
  }

  @Test func q4KLeavesEachMicroBatchsRemainderToTheOneRowKernel() {
    // 7 tokens: micro-batches [0, 3) and [3, 7). Q4_K batches groups of four; Q6_K needs 8 rows.
    let batchedQ4 = (0..<7).map { BatchSlice.referenceBatched(.q4_K, position: $0, promptLength: 7) }
    #expect(batchedQ4 == [false, false, false, true, true, true, true])
    #expect((0..<7).allSatisfy { !BatchSlice.referenceBatched(.q6_K, position: $0, promptLength: 7) })
    // 535 tokens: [0, 19) (19 = 4·4 + 3), [19, 531), [531, 535).
    #expect(BatchSlice.referenceBatched(.q4_K, position: 15, promptLength: 535))
    #expect(!BatchSlice.referenceBatched(.q4_K, position: 16, promptLength: 535))
    #expect(!BatchSlice.referenceBatched(.q4_K, position: 18, promptLength: 535))
    #expect(BatchSlice.referenceBatched(.q6_K, position: 18, promptLength: 535))
    #expect(!BatchSlice.referenceBatched(.q6_K, position: 533, promptLength: 535))
    // Generated positions and other types are never batched.
    #expect(!BatchSlice.referenceBatched(.q4_K, position: 535, promptLength: 535))
    #expect(!BatchSlice.referenceBatched(.q5_0, position: 20, promptLength: 535))
  }

  @Test func modelsWithoutCheckpointsRunWholeMicroBatches() {
    // A model without sliding-window layers (Llama): no cuts before the prompt's end, so 7 tokens are
    // one micro-batch of 7 (Q4_K batches the first 4), 9 tokens one of 9 (Q5_K and Q6_K batch all of
    // them), and 1,472 tokens run as [0, 512), [512, 1024), [1024, 1472).
    let q4 = (0..<7).map { BatchSlice.referenceBatched(.q4_K, position: $0, promptLength: 7, checkpointCuts: false) }
    #expect(q4 == [true, true, true, true, false, false, false])
    #expect((0..<9).allSatisfy { BatchSlice.referenceBatched(.q6_K, position: $0, promptLength: 9, checkpointCuts: false) })
    #expect((0..<9).allSatisfy { BatchSlice.referenceBatched(.q5_K, position: $0, promptLength: 9, checkpointCuts: false) })
    #expect((0..<7).allSatisfy { !BatchSlice.referenceBatched(.q6_K, position: $0, promptLength: 7, checkpointCuts: false) })
    #expect(BatchSlice.referenceMicroBatch(containing: 1467, promptLength: 1472, checkpointCuts: false) == (1024, 448))
    #expect(BatchSlice.referenceMicroBatch(containing: 511, promptLength: 1472, checkpointCuts: false) == (0, 512))
    // The order code follows the rule it is given.
    #expect(
      BatchSlice.batchedOrderCode(start: 0, count: 7, promptLength: 7, checkpointCuts: false)
        != BatchSlice.batchedOrderCode(start: 0, count: 7, promptLength: 7))
  }

  @Test func theOrderCodeTellsPatternsWithEqualCountsApart() {
    // Positions 16..<32: with 535 tokens 16, 17, 18 take the one-row Q4_K order, with 539 tokens 20,
    // 21, 22 do. Same counts, different positions: the codes must differ (a count would not).
    let a = BatchSlice.batchedOrderCode(start: 16, count: 16, promptLength: 535)
    let b = BatchSlice.batchedOrderCode(start: 16, count: 16, promptLength: 539)
    #expect(a != b)
    // The first block is batched alike in both, so it may be shared.
    #expect(
      BatchSlice.batchedOrderCode(start: 0, count: 16, promptLength: 535)
        == BatchSlice.batchedOrderCode(start: 0, count: 16, promptLength: 539))
    #expect(BatchSlice.batchedOrderCode(start: 535, count: 16, promptLength: 535) == 0)
  }

  @Test func floatProductsRunAloneOnlyInMicroBatchesOfOne() {
    // Models without sliding-window layers: micro-batches of 512 from the prompt's start.
    #expect(BatchSlice.referenceBatchedFloat(position: 0, promptLength: 2))
    #expect(!BatchSlice.referenceBatchedFloat(position: 0, promptLength: 1))
    #expect(BatchSlice.referenceBatchedFloat(position: 511, promptLength: 513))
    #expect(!BatchSlice.referenceBatchedFloat(position: 512, promptLength: 513))
    #expect(BatchSlice.referenceBatchedFloat(position: 512, promptLength: 514))
    // Generated positions never are.
    #expect(!BatchSlice.referenceBatchedFloat(position: 513, promptLength: 513))
    // The pattern is part of a cached block's identity.
    #expect(
      BatchSlice.batchedOrderCode(start: 512, count: 16, promptLength: 513)
        != BatchSlice.batchedOrderCode(start: 512, count: 16, promptLength: 514))
  }
}
