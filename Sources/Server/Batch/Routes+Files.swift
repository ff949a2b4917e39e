import Accounts
import Foundation
import Hummingbird

/// OpenAI's Files API for batch inputs and outputs: upload (multipart, `purpose=batch`), list, get,
/// download, delete. A file belongs to the key that uploaded it (or whose batch wrote it); any
/// other key gets 404 for it, exactly as for a file that does not exist.
extension Routes {
  static func addFiles(to router: Router<ServerRequestContext>, _ server: ServerContext) {
    router.post("/v1/files") { request, context in
      let store = try batchStore(server).files
      let limit = server.configuration.maxFileBytes
      guard let boundary = MultipartForm.boundary(contentType: request.headers[.contentType]) else {
        throw APIError.invalidParameter(
          nil, "Upload the file as multipart/form-data with fields 'purpose' (batch) and 'file'.")
      }
      // Room for the form's framing around a file of the largest size.
      let body = try await RequestBodyReader.collect(
        from: request, limit: limit + 64 * 1024, timeoutSeconds: Int(server.configuration.bodyTimeout.components.seconds))
      let form = try MultipartForm.parse(body, boundary: boundary).get()
      guard let purpose = form.text(named: "purpose") else {
        throw APIError.invalidParameter("purpose", "'purpose' is required (batch).")
      }
      guard purpose == "batch" else {
        throw APIError.invalidParameter("purpose", "'purpose' must be 'batch': this server keeps files for batches only.")
      }
      guard let file = form.part(named: "file") else {
        throw APIError.invalidParameter("file", "'file' is required: the JSONL input of a batch.")
      }
      guard file.content.count <= limit else { throw APIError.tooLarge(limit: limit) }
      guard !file.content.isEmpty else { throw APIError.invalidParameter("file", "The file is empty.") }
      let name = String((file.filename ?? "upload.jsonl").prefix(256))
      let stored = try store.save(
        file.content, id: "file-" + shortID(), owner: context.principal.id, filename: name, purpose: purpose)
      return Response.json(BatchWire.FileObject(stored))
    }
    router.get("/v1/files") { request, context in
      let store = try batchStore(server).files
      let query = request.uri.queryParameters
      let limit = query["limit"].flatMap { Int($0) } ?? 10000
      guard (1...10000).contains(limit) else { throw APIError.invalidParameter("limit", "'limit' must be 1–10000.") }
      let order = query["order"].map(String.init) ?? "desc"
      guard order == "asc" || order == "desc" else {
        throw APIError.invalidParameter("order", "'order' must be asc or desc.")
      }
      let page = try store.list(
        owner: context.principal.id, purpose: query["purpose"].map(String.init), after: query["after"].map(String.init),
        limit: limit + 1, newestFirst: order == "desc")
      let items = page.prefix(limit).map(BatchWire.FileObject.init)
      return Response.json(
        BatchWire.List(data: Array(items), firstID: items.first?.id, lastID: items.last?.id, hasMore: page.count > limit))
    }
    router.get("/v1/files/{id}") { _, context in
      Response.json(BatchWire.FileObject(try file(context, server)))
    }
    router.get("/v1/files/{id}/content") { _, context in
      let f = try file(context, server)
      let data = try batchStore(server).files.content(of: f)
      return Response(
        status: .ok, headers: [.contentType: "application/octet-stream"],
        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
    router.delete("/v1/files/{id}") { _, context in
      let id = context.parameters.get("id") ?? ""
      guard try batchStore(server).files.delete(id: id, owner: context.principal.id) else { throw fileNotFound(id) }
      return Response.json(BatchWire.Deleted(id: id))
    }
  }

  /// The batch store, or the reason there is none.
  static func batchStore(_ server: ServerContext) throws(APIError) -> BatchStore {
    guard let store = server.batches else {
      throw APIError(
        status: 404, message: "This server keeps no files or batches (--usage-db none).",
        type: "invalid_request_error", param: nil, code: "not_found")
    }
    return store
  }

  private static func file(_ context: ServerRequestContext, _ server: ServerContext) throws -> StoredFile {
    let id = context.parameters.get("id") ?? ""
    guard let f = try batchStore(server).files.get(id: id, owner: context.principal.id) else { throw fileNotFound(id) }
    return f
  }

  static func fileNotFound(_ id: String) -> APIError {
    APIError(
      status: 404, message: "No such File object: \(id)", type: "invalid_request_error", param: "id", code: nil)
  }
}
