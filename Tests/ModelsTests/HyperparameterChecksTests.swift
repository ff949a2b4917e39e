import GGUF
import Kernels
import Testing

@testable import Models

/// A model file's hyperparameters are checked before anything is sized from them.
@Suite struct HyperparameterChecksTests {
  /// A tiny llama's metadata (d 32, 2 layers, 4 heads of 8, 2 KV heads, 262 tokens).
  func llama(_ change: (inout GGUFMetadata) -> Void = { _ in }) -> GGUFMetadata {
    var m = GGUFMetadata()
    m.set("general.architecture", .string("llama"))
    m.set("llama.context_length", .uint32(256))
    m.set("llama.embedding_length", .uint32(32))
    m.set("llama.block_count", .uint32(2))
    m.set("llama.feed_forward_length", .uint32(64))
    m.set("llama.attention.head_count", .uint32(4))
    m.set("llama.attention.head_count_kv", .uint32(2))
    m.set("llama.rope.freq_base", .float32(10000))
    m.set("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
    change(&m)
    return m
  }

  /// What a llama-family loader reads from metadata alone: the decoder's shape, then its RoPE.
  func load(_ m: GGUFMetadata, vocabulary: Int = 262) throws(ModelError) -> (DecoderConfig, RopeTable) {
    let c = try DecoderConfig(metadata: m, traits: Llama.traits, vocabularySize: vocabulary)
    let rope = try RopeTable(
      metadata: m, architecture: "llama", headDim: c.headDim, contextLength: c.contextLength, adjacentPairs: true)
    return (c, rope)
  }

  func error(_ m: GGUFMetadata, vocabulary: Int = 262) -> String? {
    do {
      _ = try load(m, vocabulary: vocabulary)
      return nil
    } catch {
      return error.description
    }
  }

  @Test func aValidFileLoads() throws {
    let (c, rope) = try load(llama())
    #expect(c.contextLength == 256 && c.warnings.isEmpty && rope.dimensions == 8)
  }

  @Test(arguments: [
    ("llama.attention.layer_norm_rms_epsilon", GGUFValue.float32(-1)),
    ("llama.attention.layer_norm_rms_epsilon", .float32(.nan)),
    ("llama.attention.layer_norm_rms_epsilon", .float32(0)),
    ("llama.rope.freq_base", .float32(0)),
    ("llama.rope.freq_base", .float32(.infinity)),
    ("llama.rope.freq_base", .string("fast")),
    ("llama.rope.dimension_count", .int64(.min)),
    ("llama.rope.dimension_count", .uint32(0)),
    ("llama.rope.dimension_count", .uint32(3)),
    ("llama.embedding_length", .uint32(0)),
    ("llama.embedding_length", .uint64(.max)),
    ("llama.block_count", .uint32(1 << 20)),
    ("llama.attention.head_count", .int32(-4)),
    ("llama.attention.head_count_kv", .uint32(3)),
    ("llama.attention.head_count_kv", .uint32(8)),
    ("llama.feed_forward_length", .uint32(0)),
    ("llama.context_length", .uint32(0)),
    ("llama.vocab_size", .uint32(1)),
    ("llama.attention.key_length", .uint32(7)),
    ("llama.expert_count", .uint32(1 << 20)),
    ("llama.rope.scaling.factor", .float32(.nan)),
    ("llama.rope.scaling.type", .uint32(3)),
  ])
  func absurdValuesAreRefusedNamingTheKey(key: String, value: GGUFValue) {
    let message = error(llama { $0.set(key, value) })
    #expect(message?.contains(key) == true, "\(key) = \(value): \(message ?? "loaded")")
  }

  @Test func aContextTooLongForThisMachineIsCappedWithAWarning() throws {
    let (c, _) = try load(llama { $0.set("llama.context_length", .uint32(.max)) })
    #expect(c.contextLength < Int(UInt32.max) && c.contextLength >= 1)
    #expect(c.warnings.count == 1 && c.warnings[0].contains("llama.context_length 4294967295"))
    // 2 layers × 16 values × K and V × 2 bytes = 128 bytes a position; 1 GiB available holds 4 Mi.
    let (length, warning) = HyperparameterChecks.context(
      1 << 40, key: "k", layers: 2, kvDim: 16, availableBytes: 1 << 30)
    #expect(length == (1 << 29) / 128 && warning != nil)
    #expect(HyperparameterChecks.context(4096, key: "k", layers: 2, kvDim: 16, availableBytes: 1 << 30) == (4096, nil))
  }

  @Test func fileTypesAreLlamaCppsOwn() throws {
    for known in [0, 1, 2, 3, 7, 15, 32, 38, 41, 1024] {
      var m = GGUFMetadata()
      m.set("general.file_type", .uint32(UInt32(known)))
      try HyperparameterChecks.fileType(m)
    }
    for unknown in [5, 6, 42, 999, -1] {
      var m = GGUFMetadata()
      m.set("general.file_type", .int32(Int32(unknown)))
      #expect(throws: ModelError.self) { try HyperparameterChecks.fileType(m) }
    }
    try HyperparameterChecks.fileType(GGUFMetadata())
  }
}
