/// Something that forbids tokens step by step (e.g. a JSON grammar): the engine masks the logits of
/// every token it rejects before sampling and tells it each token chosen. One value per request.
public protocol TokenConstraint: Sendable {
  /// Sets the logits of forbidden tokens to -infinity. `logits`: [vocabularySize].
  mutating func mask(_ logits: UnsafeMutableBufferPointer<Float>)
  /// Records the token the sampler chose.
  mutating func advance(_ token: Int32)
  /// True once the output is complete (only end-of-generation may follow).
  var isComplete: Bool { get }
}
