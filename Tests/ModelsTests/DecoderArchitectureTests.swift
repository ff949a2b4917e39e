import Foundation
import GGUF
import Kernels
@testable import Models
import TestSupport
import Testing

/// The llama-family architectures on tiny random files (`TinyDecoder`): each loads, a prompt run as
/// one batch gives the same logits as token by token, mixture-of-experts layers read only the experts
/// their tokens pick and compute what a float64 oracle computes, and what is not supported is a
/// clear error.
@Suite("Llama-family architectures on tiny files")
struct DecoderArchitectureTests {
  static let architectures = ["llama", "qwen2", "qwen3", "qwen3moe"]

  static func tiny(_ arch: String, _ configure: (inout TinyDecoder) -> Void = { _ in }) -> TinyDecoder {
    var t = TinyDecoder(architecture: arch)
    if arch != "qwen3moe" { t.experts = 0 }
    configure(&t)
    return t
  }

  static func load(_ t: TinyDecoder, numerics: Numerics = .exact, threads: Int = 2) throws -> any LanguageModel {
    try ModelRegistry.load(try GGUFFile(bytes: t.bytes()), pool: ThreadPool(threadCount: threads), numerics: numerics)
  }

  @Test("every llama-family architecture is registered")
  func registered() {
    #expect(ModelRegistry.supported == ["gemma3", "llama", "qwen2", "qwen3", "qwen3moe"])
  }

  /// Under `.fast` every position takes one order (f32 attention, the fast product order, the
  /// router's one-row order), so a prompt in one batch must equal the same tokens one at a time.
  @Test("a prompt in one batch equals token by token", arguments: architectures)
  func batchEqualsSequential(_ arch: String) throws {
    let model = try Self.load(Self.tiny(arch), numerics: .fast)
    let tokens: [Int32] = [3, 17, 42, 5, 88, 61, 9, 23, 70, 1]
    let whole = try model.forward(tokens, state: model.makeState(maxTokens: 32), logits: .all)
    let state = model.makeState(maxTokens: 32)
    var rows: [Float] = []
    for t in tokens { rows += try model.forward([t], state: state, logits: .last).values }
    #expect(whole.values.map(\.bitPattern) == rows.map(\.bitPattern), "\(arch)")
    #expect(whole.values.allSatisfy { $0.isFinite })
  }

  @Test("the model's hyperparameters come from the architecture's metadata", arguments: architectures)
  func configuration(_ arch: String) throws {
    let model = try #require(try Self.load(Self.tiny(arch)) as? DecoderModel)
    #expect(model.info.architecture == arch)
    #expect(model.config.headDim == 32 && model.config.embeddingLength / model.config.heads == 16)
    #expect(model.kvLayout.kvDim == 2 * 32)
    #expect((model.config.experts != nil) == (arch == "qwen3moe"))
    #expect(model.rope.adjacentPairs == (arch == "llama"))
    #expect((model.rope.scaling?.frequencyFactors != nil) == (arch == "llama"), "rope_freqs.weight is llama's")
    #expect(model.ordersByPromptLength == (arch == "qwen3moe"))
  }

  /// Real 1B–8B files carry Q4_K / Q5_K / Q6_K matrices, whose products llama.cpp runs in a batched
  /// order for prompt rows in micro-batches of 8+ (4+ for Q4_K) and in a one-row order otherwise.
  /// Under `.exact` an 8-token prompt in one batch must take the batched order (some bit differs
  /// from the same tokens one at a time, which all take the one-row order) and still agree closely;
  /// under `.fast` the two must be identical.
  @Test("K-quant files take llama.cpp's batched order for prompt rows", arguments: [GGMLType.q4_K, .q5_K, .q6_K])
  func kQuantPromptRowsTakeTheBatchedOrder(_ type: GGMLType) throws {
    let t = Self.tiny("llama") {
      $0.embedding = 256
      $0.headDim = 64
      $0.feedForward = 256
      $0.matrixType = type
    }
    let tokens: [Int32] = [3, 17, 42, 5, 88, 61, 9, 23]
    for numerics in Numerics.allCases {
      let model = try #require(try Self.load(t, numerics: numerics) as? DecoderModel)
      #expect(model.ordersByPromptLength == (numerics == .exact))
      #expect(!model.referenceCheckpointCuts)
      #expect(model.weightMatrices.count == 7 * model.config.layers + 1)
      #expect(model.weightMatrices.allSatisfy { $0.type == type })
      let whole = try model.forward(tokens, state: model.makeState(maxTokens: 16), logits: .all).values
      let state = model.makeState(maxTokens: 16)
      var rows: [Float] = []
      for token in tokens { rows += try model.forward([token], state: state, logits: .last).values }
      let v = model.config.vocabularySize
      let differences: [Float] = zip(whole, rows).map { abs($0 - $1) }
      let perRow: [Float] = (0..<tokens.count).map { r in differences[(r * v)..<((r + 1) * v)].max() ?? 0 }
      let scale = max(1, whole.map(abs).max() ?? 1)
      if numerics == .exact {
        #expect(whole.map(\.bitPattern) != rows.map(\.bitPattern), "\(type): the prompt took the one-row order")
        // The two orders differ in low bits. Exact attention's f16 arithmetic (llama.cpp's) can turn
        // that into a visible difference on a row attending over several positions of this random
        // model (large scores); position 0 attends only to itself, and most rows stay close.
        #expect(perRow[0] < 1e-3 * scale, "\(type): \(perRow)")
        #expect(perRow.sorted()[perRow.count / 2] < 1e-3 * scale, "\(type): \(perRow)")
      } else {
        #expect(whole.map(\.bitPattern) == rows.map(\.bitPattern), "\(type): \(perRow)")
      }
    }
  }

  @Test("a token reads only the experts it picks")
  func onlyChosenExpertsArePacked() throws {
    let model = try #require(try Self.load(Self.tiny("qwen3moe")) as? DecoderModel)
    _ = try model.forward([7], state: model.makeState(maxTokens: 4), logits: .last)
    for layer in model.layers {
      let moe = try #require(layer.mixture)
      let touched = (0..<moe.counts.count).filter { moe.gate[$0].packing?.isPacked == true }
      #expect(touched.count == moe.counts.used, "experts packed: \(touched)")
      #expect(touched.allSatisfy { moe.down[$0].packing?.isPacked == true && moe.up[$0].packing?.isPacked == true })
    }
  }

  @Test("packing up front covers every expert, so no decode step packs one")
  func upFrontPackingCoversEveryExpert() throws {
    let model = try #require(try Self.load(Self.tiny("qwen3moe")) as? DecoderModel)
    let experts = try #require(model.config.experts)
    #expect(model.weightMatrices.count == model.config.layers * (4 + 3 * experts.count) + 1)
    packWeights(model.weightMatrices, pool: ThreadPool(threadCount: 2))
    for layer in model.layers {
      let moe = try #require(layer.mixture)
      #expect((moe.gate + moe.up + moe.down).allSatisfy { $0.packing.map(\.isPacked) ?? true })
    }
  }

  @Test("a mixture-of-experts layer computes what a float64 oracle does")
  func mixtureMatchesOracle() throws {
    let model = try #require(try Self.load(Self.tiny("qwen3moe"), threads: 3) as? DecoderModel)
    let moe = try #require(model.layers[1].mixture)
    let d = moe.width
    let ff = moe.counts.feedForwardLength
    var rng = SplitMix64(seed: 5)
    let n = 37
    let x = rng.floats(n * d, in: -2...2)
    var out = [Float](repeating: 0, count: n * d)
    let batched = [Bool](repeating: true, count: n)
    var workspace = ExpertWorkspace()
    let arena = ScratchArena()
    arena.reset(reserving: moe.scratchFloats(n))
    x.withUnsafeBufferPointer { xp in
      out.withUnsafeMutableBufferPointer { op in
        batched.withUnsafeBufferPointer { b in
          moe.forward(xp.baseAddress!, op.baseAddress!, n: n, batched: b.baseAddress!, workspace: &workspace, arena: arena, pool: model.pool)
        }
      }
    }
    func dense(_ w: WeightMatrix) -> [Double] {
      var row = [Float](repeating: 0, count: w.cols)
      var all: [Double] = []
      for r in 0..<w.rows {
        row.withUnsafeMutableBufferPointer { dequantizeRow(w.type, w.row(r), $0.baseAddress!, w.cols) }
        all += row.map(Double.init)
      }
      return all
    }
    let gates = (0..<moe.counts.count).map { dense(moe.gate[$0]) }
    let ups = (0..<moe.counts.count).map { dense(moe.up[$0]) }
    let downs = (0..<moe.counts.count).map { dense(moe.down[$0]) }
    var worst = 0.0
    var scale = 0.0
    for t in 0..<n {
      let xt = (0..<d).map { Double(x[t * d + $0]) }
      let logits = (0..<moe.counts.count).map { e in (0..<d).reduce(0.0) { $0 + Double(moe.router.weights[e * d + $1]) * xt[$1] } }
      let m = logits.max()!
      let p = logits.map { exp($0 - m) }
      let top = p.indices.sorted { p[$0] > p[$1] }.prefix(moe.counts.used)
      let total = top.reduce(0.0) { $0 + p[$1] }
      var expected = [Double](repeating: 0, count: d)
      for e in top {
        let h = (0..<ff).map { j -> Double in
          let g = (0..<d).reduce(0.0) { $0 + gates[e][j * d + $1] * xt[$1] }
          let u = (0..<d).reduce(0.0) { $0 + ups[e][j * d + $1] * xt[$1] }
          return g / (1 + exp(-g)) * u
        }
        for i in 0..<d { expected[i] += p[e] / total * (0..<ff).reduce(0.0) { $0 + downs[e][i * ff + $1] * h[$1] } }
      }
      for i in 0..<d {
        worst = max(worst, abs(Double(out[t * d + i]) - expected[i]))
        scale = max(scale, abs(expected[i]))
      }
    }
    // Activations are quantized to Q8_0 on the way in, as llama.cpp does: a percent or so.
    #expect(worst < 0.03 * scale, "worst \(worst) of \(scale)")
  }

  @Test("routing picks the most probable experts with weights summing to 1")
  func routing() {
    let router = ExpertRouter(
      experts: 4, used: 2, width: 16, weights: (0..<64).map { Float($0 % 16 == $0 / 16 ? 1 : 0) }, normalizes: true)
    var x = [Float](repeating: 0, count: 16)
    x[2] = 3
    x[0] = 1
    var p = [Float](repeating: 0, count: 4)
    var selected = [Int32](repeating: -1, count: 2)
    var gates = [Float](repeating: 0, count: 2)
    router.route(x, batched: false, probabilities: &p, selected: &selected, gates: &gates)
    #expect(selected == [2, 0])
    #expect(abs(gates[0] + gates[1] - 1) < 1e-6 && gates[0] > gates[1])
    // softmax(3, 1) normalized over the two: e^3 / (e^3 + e^1).
    #expect(abs(Double(gates[0]) - exp(3) / (exp(3) + exp(1))) < 1e-6)
  }

  @Test("unsupported features are errors that name them")
  func clearErrors() throws {
    #expect(throws: ModelError.unsupportedFeature(architecture: "qwen3", feature: "RoPE scaling 'longrope' (supported: none, linear, yarn)")) {
      try Self.load(Self.tiny("qwen3") { $0.extra = [("rope.scaling.type", .string("longrope"))] })
    }
    #expect(throws: ModelError.unsupportedFeature(architecture: "qwen2", feature: "8 experts per layer")) {
      try Self.load(Self.tiny("qwen2") { $0.extra = [("expert_count", .uint32(8))] })
    }
    #expect(throws: ModelError.unsupportedFeature(architecture: "llama", feature: "value heads of 16 values beside key heads of 32")) {
      try Self.load(Self.tiny("llama") { $0.extra = [("attention.value_length", .uint32(16))] })
    }
    #expect(throws: ModelError.file(.missingTensor("blk.0.attn_q_norm.weight"))) {
      try Self.load(Self.tiny("qwen3") { $0.omit = ["blk.0.attn_q_norm.weight"] })
    }
    #expect(throws: ModelError.file(.missingTensor("blk.1.ffn_up_exps.weight"))) {
      try Self.load(Self.tiny("qwen3moe") { $0.omit = ["blk.1.ffn_up_exps.weight"] })
    }
    let message = ModelError.unsupportedFeature(architecture: "qwen3", feature: "RoPE scaling 'longrope' (supported: none, linear, yarn)").description
    #expect(message == "this qwen3 file needs RoPE scaling 'longrope' (supported: none, linear, yarn), which is not supported")
  }

  @Test("llama files with experts (Mixtral) load as a mixture of experts")
  func llamaWithExperts() throws {
    let model = try #require(try Self.load(Self.tiny("llama") { $0.experts = 4; $0.expertsUsed = 2 }, numerics: .fast) as? DecoderModel)
    #expect(model.config.experts == ExpertCounts(count: 4, used: 2, feedForwardLength: 96))
    let logits = try model.forward([1, 2, 3], state: model.makeState(maxTokens: 8), logits: .last)
    #expect(logits.values.allSatisfy { $0.isFinite })
  }
}
