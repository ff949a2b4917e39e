import Foundation
import Models
import Tokenizers

/// Perplexity by llama.cpp's method: tokenize the whole text once (BOS added if the model adds it),
/// split into `context`-token chunks, put BOS first in each chunk when the model uses BOS, and
/// average the negative log-likelihood over the second half of every chunk.
public enum Perplexity {
  public struct Result: Sendable {
    public var perplexity: Double
    /// One standard error of the estimate, in perplexity units.
    public var error: Double
    public var chunks: Int
    public var scoredTokens: Int
  }

  public enum PerplexityError: Error, CustomStringConvertible {
    case textTooShort(tokens: Int, needed: Int)
    case model(ModelError)

    public var description: String {
      switch self {
      case .textTooShort(let t, let n): "the text has \(t) tokens; at least \(n) are needed for one chunk"
      case .model(let e): e.description
      }
    }
  }

  /// `progress` receives (chunk index, running perplexity) after each chunk. `kvCacheType` is how
  /// each chunk's keys and values are stored (to measure what a Q8_0 cache costs).
  public static func evaluate(
    model: any LanguageModel, tokenizer: Tokenizer, text: String, context: Int,
    addBOS: Bool, kvCacheType: KVCacheType = .f16, progress: (Int, Double) -> Void = { _, _ in }
  ) throws(PerplexityError) -> Result {
    let tokens = tokenizer.encode(text, addSpecial: true, parseSpecial: true)
    let chunks = tokens.count / context
    guard chunks > 0, context >= 4 else { throw .textTooShort(tokens: tokens.count, needed: context) }
    let first = context / 2
    var nll = 0.0
    var nll2 = 0.0
    var count = 0
    for c in 0..<chunks {
      var chunk = Array(tokens[(c * context)..<((c + 1) * context)])
      if addBOS, let bos = tokenizer.bosID { chunk[0] = bos }
      let logits: Logits
      do {
        let state = try model.makeState(maxTokens: context, kvCacheType: kvCacheType)
        logits = try model.forward(chunk, state: state, logits: .all)
      } catch { throw .model(error) }
      for j in first..<(context - 1) {
        let row = logits.row(j)
        let target = Int(tokens[c * context + j + 1])
        let maxValue = Double(row.max()!)
        var sum = 0.0
        for v in row { sum += exp(Double(v) - maxValue) }
        let logProb = Double(row[row.startIndex + target]) - maxValue - log(sum)
        nll -= logProb
        nll2 += logProb * logProb
        count += 1
      }
      progress(c, exp(nll / Double(count)))
    }
    let mean = nll / Double(count)
    let variance = nll2 / Double(count) - mean * mean
    let ppl = exp(mean)
    let error = variance > 0 ? (variance / Double(count - 1)).squareRoot() * ppl : 0
    return Result(perplexity: ppl, error: error, chunks: chunks, scoredTokens: count)
  }
}
