import Engine
import Foundation

/// `bench serve --url`: the same load, sent over HTTP to a running server.
extension BenchServe {
  /// A load generator whose requests go to the server at `url`. Checks first that it answers.
  func serverLoad(url: String, text: String) throws -> LoadGenerator {
    let key = apiKey ?? ProcessInfo.processInfo.environment["PEREGRINE_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
    let client = try HTTPClient(url: url, apiKey: key)
    let models = try client.send("GET", "/v1/models")
    guard models.status == 200 else {
      throw CLIError("\(client.origin)/v1/models answered \(models.status): \(String(decoding: models.body.prefix(300), as: UTF8.self))")
    }
    if !json {
      let served = (try? JSONSerialization.jsonObject(with: models.body) as? [String: Any])
        .flatMap { $0["data"] as? [[String: Any]] }?.compactMap { $0["id"] as? String } ?? []
      print("server \(client.origin) serves \(served.joined(separator: ", "))")
    }
    let tag = UUID().uuidString.prefix(8)
    let chat = chat
    let maxTokens = maxTokens
    let cachePrompt = !noPrefixCaching
    return LoadGenerator(maxTokens: maxTokens) { c, i in
      let prompt = BenchServe.requestText(text, tag: tag, concurrency: c, index: i)
      var body: [String: Any] = [
        "max_tokens": maxTokens, "temperature": 0, "stream": true, "ignore_eos": true,
        "stream_options": ["include_usage": true],
        // llama-server's switch for its prompt cache; peregrine ignores it (--no-prefix-caching is a server flag).
        "cache_prompt": cachePrompt,
      ]
      if chat { body["messages"] = [["role": "user", "content": prompt]] } else { body["prompt"] = prompt }
      let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
      let path = chat ? "/v1/chat/completions" : "/v1/completions"
      // The client blocks; a thread of its own keeps the cooperative pool free for the other clients.
      return await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: BenchServe.measure(client, path: path, body: data)) }
        thread.stackSize = 1 << 20
        thread.start()
      }
    }
  }

  /// Sends one streamed request and times it: TTFT to the first chunk carrying text, ITL between
  /// such chunks, e2e to the end of the stream; counts from the usage (else llama-server's timings).
  static func measure(_ client: HTTPClient, path: String, body: Data) -> LoadSample {
    var s = LoadSample()
    let start = ContinuousClock.now
    var last: ContinuousClock.Instant? = nil
    var done = false
    var failed = false
    var textChunks = 0
    var completionTokens: Int? = nil
    var predicted: Int? = nil
    var meanAccepted: Double? = nil
    do {
      let response = try client.streamLines("POST", path, json: body) { line in
        guard line.hasPrefix("data:") else { return }
        let payload = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
        if payload == "[DONE]" {
          done = true
          return
        }
        let now = ContinuousClock.now
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else { return }
        if object["error"] != nil { failed = true }
        if let choice = (object["choices"] as? [[String: Any]])?.first {
          let text = choice["text"] as? String ?? (choice["delta"] as? [String: Any])?["content"] as? String ?? ""
          if !text.isEmpty {
            if let last { s.gaps.append((now - last).seconds) } else { s.ttft = (now - start).seconds }
            last = now
            textChunks += 1
          }
        }
        if let usage = object["usage"] as? [String: Any] {
          completionTokens = usage["completion_tokens"] as? Int ?? completionTokens
          if let p = usage["prompt_tokens"] as? Int { s.promptTokens = p }
        }
        if let t = object["timings"] as? [String: Any] {
          if let q = t["queue_s"] as? Double { s.queue = q }
          if let p = t["prompt_n"] as? Int, s.promptTokens == 0 { s.promptTokens = p }
          predicted = t["predicted_n"] as? Int ?? predicted
          if let d = t["draft_n"] as? Int { s.draftTokens = d }
          if let a = t["draft_n_accepted"] as? Int { s.acceptedTokens = a }
          if let m = t["mean_accepted_length"] as? Double { meanAccepted = m }
        }
      }
      s.e2e = (ContinuousClock.now - start).seconds
      s.ok = response.status == 200 && done && !failed
    } catch {
      s.ok = false
    }
    s.outputTokens = completionTokens ?? predicted ?? textChunks
    // Passes that checked drafts, from accepted tokens per pass (mean accepted length − 1).
    if let accepted = s.acceptedTokens, let m = meanAccepted, m > 1 {
      s.draftPasses = Int((Double(accepted) / (m - 1)).rounded())
    }
    return s
  }
}
