import Foundation
import GRDB

/// A request kept because it asked for `"store": true`: its messages and output, readable only
/// by the principal that made it (OpenAI's stored chat completions).
public struct StoredCompletion: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "stored_completions"

  public var id: String
  public var principal: String
  public var createdAt: Double
  public var model: String
  /// The request body as JSON text.
  public var request: String
  /// The response (a whole chat.completion object) as JSON text.
  public var response: String
  /// The request's `metadata` object as JSON text, if any.
  public var metadata: String?

  public init(
    id: String, principal: String, createdAt: Double, model: String, request: String, response: String,
    metadata: String?
  ) {
    self.id = id
    self.principal = principal
    self.createdAt = createdAt
    self.model = model
    self.request = request
    self.response = response
    self.metadata = metadata
  }

  enum CodingKeys: String, CodingKey {
    case id, principal, model, request, response, metadata
    case createdAt = "created_at"
  }
}

/// Stored completions. Nothing reaches this table unless the request said `store: true`.
public struct CompletionStore: Sendable {
  let database: AccountsDatabase

  public init(_ database: AccountsDatabase) {
    self.database = database
  }

  public func save(_ completion: StoredCompletion) async throws {
    try await database.writer.write { db in try completion.insert(db) }
  }

  /// The same, blocking.
  public func saveNow(_ completion: StoredCompletion) throws {
    try database.writer.write { db in try completion.insert(db) }
  }

  /// One principal's stored completions, oldest or newest first, paged by id.
  public func list(
    principal: String, after: String? = nil, limit: Int = 20, newestFirst: Bool = false, model: String? = nil
  ) throws -> [StoredCompletion] {
    try database.writer.read { db in
      var request = StoredCompletion.filter(Column("principal") == principal)
      if let model { request = request.filter(Column("model") == model) }
      if let after,
        let anchor = try StoredCompletion.filter(Column("principal") == principal && Column("id") == after)
          .fetchOne(db)
      {
        request = request.filter(
          newestFirst ? Column("created_at") < anchor.createdAt : Column("created_at") > anchor.createdAt)
      }
      let order = newestFirst ? Column("created_at").desc : Column("created_at").asc
      return try request.order(order).limit(limit).fetchAll(db)
    }
  }

  public func get(id: String, principal: String) throws -> StoredCompletion? {
    try database.writer.read { db in
      try StoredCompletion.filter(Column("id") == id && Column("principal") == principal).fetchOne(db)
    }
  }

  /// Deletes one; false if the principal has none with that id.
  public func delete(id: String, principal: String) async throws -> Bool {
    try await database.writer.write { db in
      try StoredCompletion.filter(Column("id") == id && Column("principal") == principal).deleteAll(db) > 0
    }
  }
}
