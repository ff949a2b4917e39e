import Accounts
import Foundation
import Testing

@testable import Engine
@testable import Server

/// Request fields a hostile or careless client can abuse: the stored `user`, the prefix-cache
/// salt, sampling values that only break after conversion to Float.
@Suite struct HostileRequestTests {
  @Test func userLongerThanOpenAIAllowsIsRefusedLikeOpenAI() throws {
    let ok = try decode(
      ChatCompletionRequest.self,
      #"{"messages":[{"role":"user","content":"x"}],"user":""# + String(repeating: "é", count: 256) + #""}"#)
    #expect(try mapper().plan(ok, id: "c").user?.unicodeScalars.count == 256)
    let long = try decode(
      CompletionRequest.self, #"{"prompt":"x","user":""# + String(repeating: "u", count: 257) + #""}"#)
    let error = try #require(apiError { _ = try mapper().plan(long, id: "c") })
    #expect(error.status == 400 && error.param == "user" && error.code == "string_above_max_length")
    #expect(error.message.contains("257"))
  }

  @Test func cacheSaltAndNamespaceSaltTheEngineRequest() throws {
    let plain = try decode(ChatCompletionRequest.self, #"{"messages":[{"role":"user","content":"x"}],"n":2}"#)
    #expect(try mapper().plan(plain, id: "c").requests.allSatisfy { $0.cacheSalt == nil })
    let salted = try decode(
      ChatCompletionRequest.self, #"{"messages":[{"role":"user","content":"x"}],"n":2,"cache_salt":"abc"}"#)
    let a = try mapper().plan(salted, id: "c").requests.map(\.cacheSalt)
    #expect(a[0] != nil && a[0] == a[1])
    var keyed = mapper()
    keyed.cacheNamespace = CacheNamespace(name: "key-1")
    let b = try keyed.plan(salted, id: "c").requests[0].cacheSalt
    let c = try keyed.plan(plain, id: "c").requests[0].cacheSalt
    #expect(b != a[0] && c != nil && b != c)
    let empty = try decode(CompletionRequest.self, #"{"prompt":"x","cache_salt":""}"#)
    #expect(apiError { _ = try mapper().plan(empty, id: "c") }?.param == "cache_salt")
    let huge = try decode(CompletionRequest.self, #"{"prompt":"x","cache_salt":""# + String(repeating: "s", count: 600) + #""}"#)
    #expect(apiError { _ = try mapper().plan(huge, id: "c") }?.param == "cache_salt")
  }

  @Test func valuesThatVanishAsFloatNameTheirParameter() throws {
    for (field, value) in [("top_p", "5e-324"), ("repetition_penalty", "1e-300")] {
      let r = try decode(CompletionRequest.self, #"{"prompt":"x","\#(field)":\#(value)}"#)
      let error = apiError { _ = try mapper().plan(r, id: "c") }
      #expect(error?.param == field, "\(field)")
    }
  }
}

/// The admission rule: a group (an API call's `n` choices) is refused only when no running slot is
/// free for it and the queue of groups beyond the slots is full.
@Suite struct AdmissionCountsTests {
  @Test func burstsFillEverySlotBeforeTheQueueCounts() {
    var counts = AdmissionCounts(freeSlots: 64)
    var admitted = 0
    for _ in 0..<200 where counts.admits(maxWaiting: 8) {
      counts.add(groupOf: 1)
      admitted += 1
    }
    #expect(admitted == 64 + 8)
    #expect(counts.freeSlots == 0 && counts.queuedGroups == 8)
  }

  @Test func aGroupCountsOnceHoweverManyChoicesItHas() {
    var counts = AdmissionCounts(freeSlots: 2)
    #expect(counts.admits(maxWaiting: 1))
    counts.add(groupOf: 16)  // two choices start, fourteen wait: one queued group
    #expect(counts.queuedGroups == 1 && counts.freeSlots == 0)
    #expect(!counts.admits(maxWaiting: 1))
    #expect(counts.admits(maxWaiting: 2))
  }

  @Test func waitingRequestsAheadTakeSlotsFirst() {
    // 60 running, 6 waiting (groups 1,1,2,2,3,4): four take the last slots, groups 3 and 4 queue.
    let counts = AdmissionCounts(maxRunning: 64, running: 60, waitingGroups: [1, 1, 2, 2, 3, 4])
    #expect(counts.freeSlots == 0 && counts.queuedGroups == 2)
    let spare = AdmissionCounts(maxRunning: 64, running: 10, waitingGroups: [1, 2])
    #expect(spare.freeSlots == 52 && spare.queuedGroups == 0)
    #expect(AdmissionCounts(maxRunning: 1, running: 1, waitingGroups: []).admits(maxWaiting: 0) == false)
  }
}
