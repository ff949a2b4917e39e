import Foundation
import GRDB

/// A file uploaded through `/v1/files` or written as a batch's output: its bytes live on disk under
/// the files directory, this row says who owns them. Only the owner ever sees it.
public struct StoredFile: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "files"

  public var id: String
  /// The principal id that uploaded it (or owns the batch that wrote it).
  public var owner: String
  public var filename: String
  /// `batch` for inputs; `batch_output` for what batches write (OpenAI's values).
  public var purpose: String
  public var bytes: Int
  public var createdAt: Double
  /// Where the bytes are, relative to the files directory.
  public var path: String

  public init(
    id: String, owner: String, filename: String, purpose: String, bytes: Int, createdAt: Double, path: String
  ) {
    self.id = id
    self.owner = owner
    self.filename = filename
    self.purpose = purpose
    self.bytes = bytes
    self.createdAt = createdAt
    self.path = path
  }

  enum CodingKeys: String, CodingKey {
    case id, owner, filename, purpose, bytes, path
    case createdAt = "created_at"
  }
}
