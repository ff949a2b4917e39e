import Accounts
import Foundation
import Hummingbird

/// OpenAI's Batch API: create a batch from an uploaded file, list, get and cancel. The work itself
/// is the `BatchWorker`'s; these routes only read and write the batch's row.
extension Routes {
  static func addBatches(to router: Router<ServerRequestContext>, _ server: ServerContext) {
    router.post("/v1/batches") { request, context in
      let store = try batchStore(server)
      let body = try await decode(BatchWire.CreateBatch.self, request, server)
      guard BatchInputValidator.endpoints.contains(body.endpoint) else {
        throw APIError.invalidParameter(
          "endpoint", "'endpoint' must be one of \(BatchInputValidator.endpoints.joined(separator: ", ")).")
      }
      guard body.completionWindow == "24h" else {
        throw APIError.invalidParameter("completion_window", "'completion_window' must be 24h.")
      }
      if let metadata = body.metadata {
        guard metadata.count <= 16, metadata.allSatisfy({ $0.key.count <= 64 && $0.value.count <= 512 }) else {
          throw APIError.invalidParameter(
            "metadata", "'metadata' holds at most 16 pairs, keys up to 64 and values up to 512 characters.")
        }
      }
      guard let input = try store.files.get(id: body.inputFileID, owner: context.principal.id) else {
        throw fileNotFound(body.inputFileID)
      }
      guard input.purpose == "batch" else {
        throw APIError.invalidParameter("input_file_id", "The input file must have been uploaded with purpose 'batch'.")
      }
      let now = Date().timeIntervalSince1970
      let metadata = body.metadata.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
      let job = BatchJob(
        id: "batch_" + shortID(), owner: context.principal.id, ownerKind: context.principal.kind.rawValue,
        endpoint: body.endpoint, inputFileID: input.id, completionWindow: body.completionWindow, metadata: metadata,
        createdAt: now, expiresAt: now + server.configuration.batchWindowSeconds)
      try store.create(job)
      return Response.json(BatchWire.BatchObject(job, counts: BatchCounts(total: 0, completed: 0, failed: 0)))
    }
    router.get("/v1/batches") { request, context in
      let store = try batchStore(server)
      let query = request.uri.queryParameters
      let limit = query["limit"].flatMap { Int($0) } ?? 20
      guard (1...100).contains(limit) else { throw APIError.invalidParameter("limit", "'limit' must be 1–100.") }
      let page = try store.list(owner: context.principal.id, after: query["after"].map(String.init), limit: limit + 1)
      let items = try page.prefix(limit).map { BatchWire.BatchObject($0, counts: try store.counts($0.id)) }
      return Response.json(
        BatchWire.List(data: Array(items), firstID: items.first?.id, lastID: items.last?.id, hasMore: page.count > limit))
    }
    router.get("/v1/batches/{id}") { _, context in
      let store = try batchStore(server)
      let id = context.parameters.get("id") ?? ""
      guard let job = try store.get(id: id, owner: context.principal.id) else { throw batchNotFound(id) }
      return Response.json(BatchWire.BatchObject(job, counts: try store.counts(id)))
    }
    router.post("/v1/batches/{id}/cancel") { _, context in
      let store = try batchStore(server)
      let id = context.parameters.get("id") ?? ""
      guard let job = try store.requestCancel(id: id, owner: context.principal.id) else { throw batchNotFound(id) }
      if [.completed, .failed, .expired].contains(job.status) {
        throw APIError(
          status: 409, message: "Batch \(id) is already \(job.status.rawValue); only a running batch can be cancelled.",
          type: "invalid_request_error", param: nil, code: "batch_not_cancellable")
      }
      // Running lines stop within an engine step; the worker then writes what finished.
      server.batchWorker?.stop(id)
      return Response.json(BatchWire.BatchObject(job, counts: try store.counts(id)))
    }
  }

  static func batchNotFound(_ id: String) -> APIError {
    APIError(
      status: 404, message: "No such Batch object: \(id)", type: "invalid_request_error", param: "id", code: nil)
  }
}
