import Foundation
import GRDB

/// One batch: its input, where it stands, and when each status began (seconds since the epoch).
public struct BatchJob: Sendable, Equatable, Codable, FetchableRecord, PersistableRecord {
  public static let databaseTableName = "batches"

  public var id: String
  /// The principal id that created it: its files, its usage and its allowance.
  public var owner: String
  /// The principal's kind (`Principal.Kind`), so the worker meters lines as the owner would be.
  public var ownerKind: String
  /// `/v1/chat/completions` or `/v1/completions`.
  public var endpoint: String
  public var inputFileID: String
  public var completionWindow: String
  /// The `metadata` object as JSON text.
  public var metadata: String?
  public var status: BatchStatus
  /// Validation errors as JSON text (`[{"code","message","param","line"}]`).
  public var errors: String?
  public var outputFileID: String?
  public var errorFileID: String?
  public var createdAt: Double
  public var inProgressAt: Double?
  public var expiresAt: Double
  public var finalizingAt: Double?
  public var completedAt: Double?
  public var failedAt: Double?
  public var expiredAt: Double?
  public var cancellingAt: Double?
  public var cancelledAt: Double?
  /// Lines in the input (0 until validated).
  public var total: Int

  public init(
    id: String, owner: String, ownerKind: String, endpoint: String, inputFileID: String, completionWindow: String,
    metadata: String?, createdAt: Double, expiresAt: Double
  ) {
    self.id = id
    self.owner = owner
    self.ownerKind = ownerKind
    self.endpoint = endpoint
    self.inputFileID = inputFileID
    self.completionWindow = completionWindow
    self.metadata = metadata
    self.status = .validating
    self.createdAt = createdAt
    self.expiresAt = expiresAt
    self.total = 0
  }

  enum CodingKeys: String, CodingKey {
    case id, owner, endpoint, metadata, status, errors, total
    case ownerKind = "owner_kind"
    case inputFileID = "input_file_id"
    case completionWindow = "completion_window"
    case outputFileID = "output_file_id"
    case errorFileID = "error_file_id"
    case createdAt = "created_at"
    case inProgressAt = "in_progress_at"
    case expiresAt = "expires_at"
    case finalizingAt = "finalizing_at"
    case completedAt = "completed_at"
    case failedAt = "failed_at"
    case expiredAt = "expired_at"
    case cancellingAt = "cancelling_at"
    case cancelledAt = "cancelled_at"
  }
}

/// How many lines are done, as `request_counts` reports them.
public struct BatchCounts: Sendable, Equatable {
  public var total: Int
  public var completed: Int
  public var failed: Int

  public init(total: Int, completed: Int, failed: Int) {
    self.total = total
    self.completed = completed
    self.failed = failed
  }
}
