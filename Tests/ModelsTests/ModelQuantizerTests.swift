import GGUF
import Kernels
import Models
import TestSupport
import Testing

@Suite("Model quantizer")
struct ModelQuantizerTests {
  func logits(_ file: GGUFFile, _ tokens: [Int32]) throws -> [Float] {
    let model = try ModelRegistry.load(file, pool: ThreadPool(threadCount: 1))
    return Array(try model.forward(tokens, state: model.makeState(maxTokens: 32), logits: .last).row(0))
  }

  @Test(arguments: [GGMLType.f16, .bf16, .q8_0, .q4_1, .q4_0])
  func convertedTinyModelKeepsMetadataAndCloseLogits(type: GGMLType) throws {
    let source = try GGUFFile(bytes: TinyLlama.bytes())
    let (writer, report) = try ModelQuantizer.quantize(source, to: type)
    let converted = try GGUFFile(bytes: writer.serialize())
    #expect(report.converted == 1 + 2 * 7)  // embedding + 7 matrices per layer
    #expect(report.kept == 1 + 2 * 2)  // norms
    for key in source.metadata.keys { #expect(converted.metadata[key] != nil, "\(key) lost") }
    #expect(converted.tensor(named: "blk.0.attn_q.weight")?.type == type)
    #expect(converted.tensor(named: "blk.0.attn_norm.weight")?.type == .f32)
    let tokens: [Int32] = [1, 5, 9, 33, 70, 2]
    let reference = try logits(source, tokens)
    let got = try logits(converted, tokens)
    let gap = zip(reference, got).map { abs($0 - $1) }.max()!
    let spread = reference.max()! - reference.min()!
    // 16-bit types are near exact; 8- and 4-bit ones move logits by a small share of their range.
    let bound: Float = type == .f16 || type == .bf16 ? 0.02 * spread : type == .q8_0 ? 0.05 * spread : 0.3 * spread
    #expect(gap < bound, "\(type): max logit gap \(gap) over a spread of \(spread)")
  }

  @Test func unsupportedTargetIsAClearError() throws {
    let source = try GGUFFile(bytes: TinyLlama.bytes())
    #expect(throws: ModelError.self) { try ModelQuantizer.quantize(source, to: .q8_1) }
  }
}
