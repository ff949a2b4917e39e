import Foundation
import GRDB

/// Uploaded and batch-written files: bytes under `directory`, one row each in `files`. A file's
/// bytes are written and synced before its row is committed, so a row always has its bytes (a crash
/// in between leaves only an unreferenced file behind, never a row without content).
public struct FileStore: Sendable {
  let database: AccountsDatabase
  /// Where the bytes live (created on first write).
  public let directory: URL

  public init(_ database: AccountsDatabase, directory: URL) {
    self.database = database
    self.directory = directory
  }

  /// Stores `content` as a new file of `owner`.
  public func save(
    _ content: Data, id: String, owner: String, filename: String, purpose: String, now: Date = Date()
  ) throws -> StoredFile {
    try write(content, name: id)
    let file = StoredFile(
      id: id, owner: owner, filename: filename, purpose: purpose, bytes: content.count,
      createdAt: now.timeIntervalSince1970, path: id)
    try database.writer.write { db in try file.insert(db) }
    return file
  }

  /// Writes the bytes of `name` durably: a temporary file, synced, then renamed over the name.
  public func write(_ content: Data, name: String) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let target = directory.appendingPathComponent(name)
    let temporary = directory.appendingPathComponent(".\(name).\(getpid()).tmp")
    guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
      throw AccountsError.database("cannot create \(temporary.path)")
    }
    let handle = try FileHandle(forWritingTo: temporary)
    do {
      try handle.write(contentsOf: content)
      try handle.synchronize()
      try handle.close()
    } catch {
      try? handle.close()
      try? FileManager.default.removeItem(at: temporary)
      throw error
    }
    if rename(temporary.path, target.path) != 0 {
      throw AccountsError.database("cannot rename \(temporary.path): errno \(errno)")
    }
  }

  /// The owner's file, or nil (a file of another owner is as absent as one that never existed).
  public func get(id: String, owner: String) throws -> StoredFile? {
    try database.writer.read { db in
      try StoredFile.filter(Column("id") == id && Column("owner") == owner).fetchOne(db)
    }
  }

  /// Any owner's file (for the batch worker, which acts for every owner).
  public func get(id: String) throws -> StoredFile? {
    try database.writer.read { db in try StoredFile.fetchOne(db, key: id) }
  }

  public func content(of file: StoredFile) throws -> Data {
    try Data(contentsOf: directory.appendingPathComponent(file.path))
  }

  /// The owner's files, newest first, paged by id (`after`), optionally of one purpose.
  public func list(owner: String, purpose: String? = nil, after: String? = nil, limit: Int = 10000, newestFirst: Bool = true)
    throws -> [StoredFile]
  {
    try database.writer.read { db in
      var request = StoredFile.filter(Column("owner") == owner)
      if let purpose { request = request.filter(Column("purpose") == purpose) }
      if let after, let anchor = try StoredFile.filter(Column("owner") == owner && Column("id") == after).fetchOne(db) {
        request = request.filter(
          newestFirst
            ? Column("created_at") < anchor.createdAt || (Column("created_at") == anchor.createdAt && Column("id") < anchor.id)
            : Column("created_at") > anchor.createdAt || (Column("created_at") == anchor.createdAt && Column("id") > anchor.id))
      }
      let order = newestFirst ? [Column("created_at").desc, Column("id").desc] : [Column("created_at").asc, Column("id").asc]
      return try request.order(order).limit(limit).fetchAll(db)
    }
  }

  /// Deletes the owner's file (row, then bytes); false if the owner has none with that id.
  public func delete(id: String, owner: String) throws -> Bool {
    guard let file = try get(id: id, owner: owner) else { return false }
    let deleted = try database.writer.write { db in
      try StoredFile.filter(Column("id") == id && Column("owner") == owner).deleteAll(db) > 0
    }
    if deleted { try? FileManager.default.removeItem(at: directory.appendingPathComponent(file.path)) }
    return deleted
  }
}
