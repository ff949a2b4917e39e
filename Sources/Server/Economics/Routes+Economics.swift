import Accounts
import Foundation
import HTTPTypes
import Hummingbird

/// The routes around inference: token counters and estimates, usage reports, stored completions
/// and the admin API. Each reads the caller's principal that the middleware authenticated.
extension Routes {
  static func addEconomics(to router: Router<ServerRequestContext>, _ server: ServerContext) {
    router.post("/v1/chat/completions/input_tokens") { request, context in
      let plan = try await chatPlan(request, context, server)
      return Response.json(InputTokensResponse(inputTokens: plan.promptTokenCounts.reduce(0, +)))
    }
    router.post("/v1/completions/input_tokens") { request, context in
      let plan = try await completionPlan(request, context, server)
      return Response.json(InputTokensResponse(inputTokens: plan.promptTokenCounts.reduce(0, +)))
    }
    router.post("/v1/usage/estimate") { request, context in
      let raw = try await request.body.collect(upTo: server.configuration.maxBodyBytes)
      let data = Data(raw.readableBytesView)
      let isChat = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["messages"] != nil
      let (_, model) = try server.host.ready()
      let mapper = RequestMapper(model: model)
      let plan =
        isChat
        ? try mapper.plan(try RequestBodyReader.decode(ChatCompletionRequest.self, from: data), id: "est")
        : try mapper.plan(try RequestBodyReader.decode(CompletionRequest.self, from: data), id: "est")
      return Response.json(try estimate(plan, principal: context.principal, server))
    }
    router.get("/v1/usage") { request, context in
      try usageReport(request, context, server)
    }
    addStoredCompletions(to: router, server)
    addAdmin(to: router, server)
  }

  // MARK: Token counting

  private static func chatPlan(_ request: Request, _ context: ServerRequestContext, _ server: ServerContext)
    async throws -> GenerationPlan
  {
    let body = try await decode(ChatCompletionRequest.self, request, server)
    let (_, model) = try server.host.ready()
    return try RequestMapper(model: model).plan(body, id: "count")
  }

  private static func completionPlan(_ request: Request, _ context: ServerRequestContext, _ server: ServerContext)
    async throws -> GenerationPlan
  {
    let body = try await decode(CompletionRequest.self, request, server)
    let (_, model) = try server.host.ready()
    return try RequestMapper(model: model).plan(body, id: "count")
  }

  static func estimate(_ plan: GenerationPlan, principal: Principal, _ server: ServerContext) throws -> UsageEstimate {
    let prompt = plan.promptTokenCounts.reduce(0, +)
    let output = plan.requests.reduce(0) { $0 + $1.maxTokens }
    var estimate = UsageEstimate(promptTokens: prompt, maxOutputTokens: output, maxTotalTokens: prompt + output)
    if let prices = server.configuration.economics.prices {
      estimate.cost = .init(
        min: prices.cost(promptTokens: prompt, cachedTokens: 0, completionTokens: 0).total,
        max: prices.cost(promptTokens: prompt, cachedTokens: 0, completionTokens: output).total)
    }
    if let accounts = server.accounts, principal.isMetered {
      let s = try QuotaLedger(accounts).status(principal)
      estimate.allowance = .init(
        limitTokens: s.limitTokens, remainingTokens: s.remainingTokens, packTokens: s.packTokens,
        resetsAt: s.tokensResetAt.map { Int($0.timeIntervalSince1970.rounded(.up)) },
        covers: (s.remainingTokens ?? .max) >= prompt + output)
    }
    return estimate
  }

  // MARK: Usage reports

  private static func usageReport(_ request: Request, _ context: ServerRequestContext, _ server: ServerContext) throws
    -> Response
  {
    guard let accounts = server.accounts else {
      throw APIError(
        status: 404, message: "This server keeps no usage records (--usage-db none).", type: "invalid_request_error",
        param: nil, code: "not_found")
    }
    let query = request.uri.queryParameters
    let groupText = query["group_by"].map(String.init) ?? "day"
    guard let grouping = UsageLedger.Grouping(rawValue: groupText) else {
      throw APIError.invalidParameter("group_by", "'group_by' must be day, key or model.")
    }
    let now = Date()
    let end = try time(query["end"] ?? query["end_time"], "end") ?? now
    let start = try time(query["start"] ?? query["start_time"], "start") ?? end.addingTimeInterval(-30 * 86_400)
    guard start <= end else { throw APIError.invalidParameter("start", "'start' is after 'end'.") }
    // A key sees its own usage; the admin (and an open server) everyone's, or one key's.
    var principal: String? = context.principal.id
    if [.admin, .open].contains(context.principal.kind) { principal = query["key"].map(String.init) }
    let rows = try UsageLedger(accounts).summary(start: start, end: end, groupBy: grouping, principal: principal)
    return Response.json(
      UsageReport(
        groupBy: grouping.rawValue, start: Int(start.timeIntervalSince1970), end: Int(end.timeIntervalSince1970),
        data: rows.map {
          .init(
            group: $0.group, requests: $0.requests, inputTokens: $0.inputTokens, cachedTokens: $0.cachedTokens,
            outputTokens: $0.outputTokens, cost: $0.cost)
        }))
  }

  /// Unix seconds or an ISO 8601 date (`2026-12-03` or `2026-12-03T10:00:00Z`).
  static func time(_ text: Substring?, _ param: String) throws(APIError) -> Date? {
    guard let text else { return nil }
    if let seconds = Double(text) {
      // Int(...) of the reply must not trap: keep to years 0–9999.
      guard seconds.isFinite, abs(seconds) <= 253_402_300_799 else {
        throw .invalidParameter(param, "'\(param)' is out of range: \(text).")
      }
      return Date(timeIntervalSince1970: seconds)
    }
    let full = ISO8601DateFormatter()
    if let d = full.date(from: String(text)) { return d }
    let day = ISO8601DateFormatter()
    day.formatOptions = [.withFullDate]
    if let d = day.date(from: String(text)) { return d }
    throw .invalidParameter(param, "'\(param)' must be Unix seconds or an ISO 8601 date, got '\(text)'.")
  }
}
