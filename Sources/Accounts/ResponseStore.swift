import Foundation
import GRDB

/// A response of OpenAI's Responses API kept because its request left `store` on: the response
/// object and the conversation it ended, readable (and continuable) only by the principal that made it.
public struct StoredResponse: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "stored_responses"

  public var id: String
  public var principal: String
  public var createdAt: Double
  public var model: String
  public var previousResponseID: String?
  /// The response object as JSON text.
  public var response: String
  /// Every input item up to and including this response's output items, as a JSON array (the
  /// request's `instructions` excluded: they do not carry over to a continuation).
  public var conversation: String

  public init(
    id: String, principal: String, createdAt: Double, model: String, previousResponseID: String?, response: String,
    conversation: String
  ) {
    self.id = id
    self.principal = principal
    self.createdAt = createdAt
    self.model = model
    self.previousResponseID = previousResponseID
    self.response = response
    self.conversation = conversation
  }

  enum CodingKeys: String, CodingKey {
    case id, principal, model, response, conversation
    case createdAt = "created_at"
    case previousResponseID = "previous_response_id"
  }
}

/// Stored responses. One transaction per save (WAL): a response the client saw complete survives kill -9.
public struct ResponseStore: Sendable {
  let database: AccountsDatabase

  public init(_ database: AccountsDatabase) {
    self.database = database
  }

  public func save(_ response: StoredResponse) throws {
    try database.writer.write { db in try response.insert(db) }
  }

  public func get(id: String, principal: String) throws -> StoredResponse? {
    try database.writer.read { db in
      try StoredResponse.filter(Column("id") == id && Column("principal") == principal).fetchOne(db)
    }
  }

  /// Deletes one; false if the principal has none with that id.
  public func delete(id: String, principal: String) throws -> Bool {
    try database.writer.write { db in
      try StoredResponse.filter(Column("id") == id && Column("principal") == principal).deleteAll(db) > 0
    }
  }
}
