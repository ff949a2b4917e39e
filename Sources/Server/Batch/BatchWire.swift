import Accounts
import Foundation

/// The Files and Batch API objects as OpenAI sends them (`file`, `batch`, `list`, deletions).
enum BatchWire {
  struct FileObject: Encodable {
    var id: String
    var object = "file"
    var bytes: Int
    var createdAt: Int
    var expiresAt: Int? = nil
    var filename: String
    var purpose: String
    var status = "processed"
    var statusDetails: String? = nil

    init(_ f: StoredFile) {
      id = f.id
      bytes = f.bytes
      createdAt = Int(f.createdAt)
      filename = f.filename
      purpose = f.purpose
    }

    enum CodingKeys: String, CodingKey {
      case id, object, bytes, filename, purpose, status
      case createdAt = "created_at"
      case expiresAt = "expires_at"
      case statusDetails = "status_details"
    }

    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(id, forKey: .id)
      try c.encode(object, forKey: .object)
      try c.encode(bytes, forKey: .bytes)
      try c.encode(createdAt, forKey: .createdAt)
      try c.encode(expiresAt, forKey: .expiresAt)
      try c.encode(filename, forKey: .filename)
      try c.encode(purpose, forKey: .purpose)
      try c.encode(status, forKey: .status)
      try c.encode(statusDetails, forKey: .statusDetails)
    }
  }

  struct Deleted: Encodable {
    var id: String
    var object = "file"
    var deleted = true
  }

  /// One entry of a batch's `errors.data`: what is wrong with which input line (1-based).
  struct LineError: Codable, Equatable, Sendable {
    var code: String
    var message: String
    var param: String?
    var line: Int?

    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(code, forKey: .code)
      try c.encode(message, forKey: .message)
      try c.encode(param, forKey: .param)
      try c.encode(line, forKey: .line)
    }
  }

  struct ErrorList: Encodable {
    var object = "list"
    var data: [LineError]
  }

  struct Counts: Encodable {
    var total: Int
    var completed: Int
    var failed: Int
  }

  struct BatchObject: Encodable {
    var id: String
    var object = "batch"
    var endpoint: String
    var errors: ErrorList?
    var inputFileID: String
    var completionWindow: String
    var status: String
    var outputFileID: String?
    var errorFileID: String?
    var createdAt: Int
    var inProgressAt: Int?
    var expiresAt: Int?
    var finalizingAt: Int?
    var completedAt: Int?
    var failedAt: Int?
    var expiredAt: Int?
    var cancellingAt: Int?
    var cancelledAt: Int?
    var requestCounts: Counts
    var metadata: JSONValue?

    init(_ job: BatchJob, counts: BatchCounts) {
      id = job.id
      endpoint = job.endpoint
      errors = job.errors.flatMap { try? JSONDecoder().decode([LineError].self, from: Data($0.utf8)) }.map {
        ErrorList(data: $0)
      }
      inputFileID = job.inputFileID
      completionWindow = job.completionWindow
      status = job.status.rawValue
      outputFileID = job.outputFileID
      errorFileID = job.errorFileID
      createdAt = Int(job.createdAt)
      inProgressAt = job.inProgressAt.map { Int($0) }
      expiresAt = Int(job.expiresAt)
      finalizingAt = job.finalizingAt.map { Int($0) }
      completedAt = job.completedAt.map { Int($0) }
      failedAt = job.failedAt.map { Int($0) }
      expiredAt = job.expiredAt.map { Int($0) }
      cancellingAt = job.cancellingAt.map { Int($0) }
      cancelledAt = job.cancelledAt.map { Int($0) }
      requestCounts = Counts(total: counts.total, completed: counts.completed, failed: counts.failed)
      metadata = job.metadata.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }

    enum CodingKeys: String, CodingKey {
      case id, object, endpoint, errors, status, metadata
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
      case requestCounts = "request_counts"
    }

    // OpenAI sends every field, null when unset.
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(id, forKey: .id)
      try c.encode(object, forKey: .object)
      try c.encode(endpoint, forKey: .endpoint)
      try c.encode(errors, forKey: .errors)
      try c.encode(inputFileID, forKey: .inputFileID)
      try c.encode(completionWindow, forKey: .completionWindow)
      try c.encode(status, forKey: .status)
      try c.encode(outputFileID, forKey: .outputFileID)
      try c.encode(errorFileID, forKey: .errorFileID)
      try c.encode(createdAt, forKey: .createdAt)
      try c.encode(inProgressAt, forKey: .inProgressAt)
      try c.encode(expiresAt, forKey: .expiresAt)
      try c.encode(finalizingAt, forKey: .finalizingAt)
      try c.encode(completedAt, forKey: .completedAt)
      try c.encode(failedAt, forKey: .failedAt)
      try c.encode(expiredAt, forKey: .expiredAt)
      try c.encode(cancellingAt, forKey: .cancellingAt)
      try c.encode(cancelledAt, forKey: .cancelledAt)
      try c.encode(requestCounts, forKey: .requestCounts)
      try c.encode(metadata, forKey: .metadata)
    }
  }

  struct List<Item: Encodable>: Encodable {
    var object = "list"
    var data: [Item]
    var firstID: String?
    var lastID: String?
    var hasMore: Bool

    enum CodingKeys: String, CodingKey {
      case object, data
      case firstID = "first_id"
      case lastID = "last_id"
      case hasMore = "has_more"
    }
  }

  /// The body of `POST /v1/batches`.
  struct CreateBatch: Decodable {
    var inputFileID: String
    var endpoint: String
    var completionWindow: String
    var metadata: [String: String]?

    enum CodingKeys: String, CodingKey {
      case endpoint, metadata
      case inputFileID = "input_file_id"
      case completionWindow = "completion_window"
    }
  }
}
