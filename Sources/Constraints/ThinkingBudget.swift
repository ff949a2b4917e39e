/// Caps a reasoning model's thinking: once `budget` tokens have been generated inside the thinking
/// block (`<think>` … `</think>`), the tokens of the closing text are forced one by one, so the
/// model goes on to its answer. Outside thinking it allows everything.
///
/// Markers are matched on output bytes, so a marker the model spells with several tokens (or one
/// split across tokens) is still seen. Only the first thinking block is budgeted; what follows
/// it is left alone.
public struct ThinkingBudget: Sendable {
  public let vocabulary: TokenTrie
  public let budget: Int
  private let open: [UInt8]
  private let close: [UInt8]
  private let closing: [Int32]
  /// Tokens generated inside the thinking block so far.
  public private(set) var spent = 0
  public private(set) var isThinking: Bool
  private var finished = false
  /// The next forced token's index in `closing`, while forcing.
  private var forcing: Int?
  /// The last bytes of output, enough to see a marker split across tokens.
  private var tail: [UInt8] = []

  /// - Parameters:
  ///   - budget: tokens allowed inside the thinking block (0 closes it at once).
  ///   - startsThinking: the prompt already opened the block (DeepSeek-R1's and some Qwen3
  ///     templates end the generation prompt with `<think>`).
  ///   - closing: token ids forced when the budget is spent, e.g. the encoding of "\n</think>\n\n".
  public init(
    budget: Int, vocabulary: TokenTrie, closing: [Int32], startsThinking: Bool,
    open: String = "<think>", close: String = "</think>"
  ) {
    self.budget = max(0, budget)
    self.vocabulary = vocabulary
    self.closing = closing.filter { $0 >= 0 && Int($0) < vocabulary.vocabularySize }
    self.open = Array(open.utf8)
    self.close = Array(close.utf8)
    isThinking = startsThinking
    if startsThinking && self.budget == 0 { forcing = self.closing.isEmpty ? nil : 0 }
  }

  /// The closing text is being forced.
  public var isForcing: Bool { forcing != nil }

  /// The one token allowed next while forcing; nil when any token may come.
  public var forcedToken: Int32? { forcing.map { closing[$0] } }

  public mutating func advance(token: Int32) {
    if let i = forcing {
      if i + 1 < closing.count {
        forcing = i + 1
      } else {
        forcing = nil
        isThinking = false
        finished = true
      }
      return
    }
    guard !finished, token >= 0, Int(token) < vocabulary.vocabularySize else { return }
    tail += vocabulary.pieces[Int(token)]
    let keep = max(open.count, close.count) * 2
    if isThinking {
      spent += 1
      if Self.contains(tail, close) {
        isThinking = false
        finished = true
        return
      }
      if spent >= budget, !closing.isEmpty { forcing = 0 }
    } else if Self.contains(tail, open) {
      isThinking = true
      // Only what follows the marker can hold the closing one.
      tail = []
      if budget == 0, !closing.isEmpty { forcing = 0 }
    }
    if tail.count > keep { tail.removeFirst(tail.count - keep) }
  }

  private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return false }
    for start in 0...(haystack.count - needle.count) where haystack[start..<start + needle.count].elementsEqual(needle) {
      return true
    }
    return false
  }
}

extension ThinkingBudget: TokenConstraint {
  public mutating func mask(_ logits: UnsafeMutableBufferPointer<Float>) {
    guard let forced = forcedToken else { return }
    let keep = Int(forced) < logits.count ? logits[Int(forced)] : 0
    logits.update(repeating: -.infinity)
    if Int(forced) < logits.count { logits[Int(forced)] = keep.isFinite ? keep : 0 }
  }

  public mutating func advance(_ token: Int32) { advance(token: token) }

  public var isComplete: Bool { false }
}
