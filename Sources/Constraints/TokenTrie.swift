import Tokenizers

/// A tokenizer's vocabulary as a byte trie, for constrained decoding: walking the trie with an
/// automaton visits each shared token prefix once instead of once per token.
///
/// Build it once per tokenizer (about a tenth of a second for 49k tokens) and share it between
/// requests; it is immutable.
public final class TokenTrie: @unchecked Sendable {
  /// Number of token ids (the logits width).
  public let vocabularySize: Int
  /// Tokens that end generation; a constraint allows them only where its output may end.
  public let endOfGeneration: [Int32]
  /// Each token's bytes (empty for control and end-of-generation tokens).
  let pieces: [[UInt8]]
  /// Every token with text.
  let all: Trie
  /// Inside a JSON string most tokens are plain content that leaves the automaton as it was.
  /// Those are precomputed here (`stringContent[id]`), and only the others — tokens with a quote,
  /// an unfinished escape or a split UTF-8 character — are walked, through `notStringContent`.
  let stringContent: [Bool]
  let stringContentCount: Int
  let notStringContent: Trie

  /// - Parameters:
  ///   - tokenBytes: each token id's bytes as they appear in output text; empty for tokens that
  ///     never appear in text (control tokens), which a constraint then never allows.
  ///   - endOfGeneration: ids that stop generation.
  public init(tokenBytes: [[UInt8]], endOfGeneration: [Int32]) {
    vocabularySize = tokenBytes.count
    self.endOfGeneration = endOfGeneration.filter { $0 >= 0 && Int($0) < tokenBytes.count }
    let eog = Set(self.endOfGeneration)
    let pieces = tokenBytes.indices.map { eog.contains(Int32($0)) ? [] : tokenBytes[$0] }
    self.pieces = pieces
    let ids = pieces.indices.filter { !pieces[$0].isEmpty }
    all = Trie(pieces, ids)
    var content = [Bool](repeating: false, count: pieces.count)
    for id in ids {
      var aux: UInt8 = 0
      var ok = true
      for b in pieces[id] where JSONAutomaton.stringStep(&aux, b) != .accept {
        ok = false
        break
      }
      content[id] = ok && aux == 0
    }
    stringContent = content
    stringContentCount = content.lazy.filter { $0 }.count
    notStringContent = Trie(pieces, ids.filter { !content[$0] })
  }

  /// The tokenizer's pieces as output bytes; control tokens are left out.
  public convenience init(tokenizer: Tokenizer) {
    var pieces: [[UInt8]] = []
    pieces.reserveCapacity(tokenizer.vocabularySize)
    var eog: [Int32] = []
    for id in 0..<Int32(tokenizer.vocabularySize) {
      pieces.append(tokenizer.piece(id, special: false))
      if tokenizer.isEndOfGeneration(id) { eog.append(id) }
    }
    self.init(tokenBytes: pieces, endOfGeneration: eog)
  }

  /// A byte trie over some of the tokens, flattened into raw arrays.
  final class Trie: @unchecked Sendable {
    /// Longest token in bytes.
    let maxTokenLength: Int
    let nodeCount: Int
    // Per node: its outgoing edges `firstEdge..<firstEdge+edgeCount` (sorted by byte) and the
    // tokens spelled exactly by the path to it, `firstToken..<firstToken+tokenCount`.
    let firstEdge: UnsafeMutablePointer<Int32>
    let edgeCount: UnsafeMutablePointer<Int32>
    let firstToken: UnsafeMutablePointer<Int32>
    let tokenCount: UnsafeMutablePointer<Int32>
    let edgeByte: UnsafeMutablePointer<UInt8>
    let edgeTarget: UnsafeMutablePointer<Int32>
    let tokens: UnsafeMutablePointer<Int32>

    init(_ tokenBytes: [[UInt8]], _ subset: [Int]) {
      let order = subset.sorted { tokenBytes[$0].lexicographicallyPrecedes(tokenBytes[$1]) }
      maxTokenLength = order.map { tokenBytes[$0].count }.max() ?? 0
      var nodeEdges: [(Int32, Int32)] = []  // (firstEdge, edgeCount)
      var nodeTokens: [(Int32, Int32)] = []
      var bytes: [UInt8] = []
      var targets: [Int32] = []
      var ids: [Int32] = []
      // Builds the node for sorted tokens `range` sharing their first `depth` bytes.
      func build(_ range: Range<Int>, _ depth: Int) -> Int32 {
        let me = nodeEdges.count
        nodeEdges.append((0, 0))
        nodeTokens.append((0, 0))
        var i = range.lowerBound
        let tokenStart = ids.count
        while i < range.upperBound, tokenBytes[order[i]].count == depth {
          ids.append(Int32(order[i]))
          i += 1
        }
        nodeTokens[me] = (Int32(tokenStart), Int32(ids.count - tokenStart))
        var children: [(UInt8, Int32)] = []
        while i < range.upperBound {
          let b = tokenBytes[order[i]][depth]
          var j = i + 1
          while j < range.upperBound, tokenBytes[order[j]][depth] == b { j += 1 }
          children.append((b, build(i..<j, depth + 1)))
          i = j
        }
        nodeEdges[me] = (Int32(bytes.count), Int32(children.count))
        for (b, child) in children {
          bytes.append(b)
          targets.append(child)
        }
        return Int32(me)
      }
      _ = build(0..<order.count, 0)

      nodeCount = nodeEdges.count
      func copy<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, a.count))
        _ = UnsafeMutableBufferPointer(start: p, count: a.count).initialize(from: a)
        return p
      }
      firstEdge = copy(nodeEdges.map(\.0))
      edgeCount = copy(nodeEdges.map(\.1))
      firstToken = copy(nodeTokens.map(\.0))
      tokenCount = copy(nodeTokens.map(\.1))
      edgeByte = copy(bytes)
      edgeTarget = copy(targets)
      tokens = copy(ids)
    }

    deinit {
      for p in [firstEdge, edgeCount, firstToken, tokenCount, edgeTarget, tokens] { p.deallocate() }
      edgeByte.deallocate()
    }
  }
}
