import Accounts
import Engine
import Foundation

/// A finished generation kept by the result cache: every choice's text, tokens and completion, so
/// a hit can be answered whole or replayed as a stream.
struct CachedResult: Sendable {
  var choices: [ChoiceAccumulator]

  /// Roughly what the entry holds in memory (the cache's size cap counts this).
  var bytes: Int {
    choices.reduce(256) { total, c in
      total + 128 + c.text.utf8.count * 2
        + c.tokens.reduce(0) { $0 + 64 + $1.text.utf8.count + $1.topLogprobs.count * 48 }
    }
  }

  /// The choices as a hit reports them: every prompt token counts as cached, and the timings are
  /// this request's own (no queue, no prefill, no decode).
  func replayed(promptTokenCounts: [Int], n: Int, elapsed: Double) -> [ChoiceAccumulator] {
    choices.enumerated().map { i, c in
      var copy = c
      if var done = copy.completion {
        let prompt = promptTokenCounts[min(i / max(n, 1), promptTokenCounts.count - 1)]
        done.cachedPromptTokens = prompt
        done.preemptions = 0
        var t = RequestTimings()
        t.ttftSeconds = elapsed
        t.e2eSeconds = elapsed
        done.timings = t
        copy.completion = done
      }
      return copy
    }
  }

  /// The cache key of a plan run for `namespace`: everything that decides its output (prompt ids,
  /// sampling with seed, limits, stops, biases, log-probability and echo options, response format,
  /// endpoint and model; the cache salt and speculation settings), hashed. Requests in different
  /// namespaces (keys, or salts within a key) never share an entry.
  static func key(_ plan: GenerationPlan, namespace: String) -> String {
    var text = "v1\u{0}\(namespace)\u{0}\(plan.model)\u{0}\(plan.endpoint.rawValue)\u{0}n=\(plan.n)"
    text += "\u{0}lp=\(plan.logprobs.map(String.init) ?? "-")\u{0}echo=\(plan.echoTexts ?? [])"
    text += "\u{0}fmt=\(plan.outputFormatKey ?? "-")"
    for r in plan.requests {
      // A greedy request draws a seed it never uses: leave it out, or no two would ever match.
      var sampling = r.sampling
      if sampling.temperature <= 0 { sampling.seed = 0 }
      text += "\u{0}p=\(r.promptIDs)\u{0}s=\(sampling)\u{0}m=\(r.maxTokens)\u{0}eos=\(r.ignoreEndOfGeneration)"
      text += "\u{0}stop=\(r.stopSequences)\u{0}stopid=\(r.stopTokenIDs.sorted())\u{0}top=\(r.topLogprobs ?? -1)"
      text += "\u{0}bias=\(r.logitBias.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" })"
      // A cache_salt is a namespace within the key; speculation changes the reported timings.
      text += "\u{0}salt=\(r.cacheSalt ?? "-")\u{0}spec=\(r.speculative.map { "\($0)" } ?? "-")/\(r.draftTokens ?? -1)"
    }
    return SHA256.hash(Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
  }
}
