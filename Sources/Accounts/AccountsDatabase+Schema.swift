import GRDB

extension AccountsDatabase {
  /// The schema, one migration per step. "v1" is the usage table as earlier servers created it,
  /// so their files open unchanged and gain the accounts tables.
  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1") { db in
      try db.create(table: "usage") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("request_id", .text).notNull()
        t.column("created_at", .double).notNull()
        t.column("endpoint", .text).notNull()
        t.column("model", .text).notNull()
        t.column("user", .text)
        t.column("api_key_id", .text)
        t.column("prompt_tokens", .integer).notNull()
        t.column("completion_tokens", .integer).notNull()
        t.column("cached_tokens", .integer).notNull()
        t.column("queue_s", .double).notNull()
        t.column("ttft_s", .double).notNull()
        t.column("e2e_s", .double).notNull()
        t.column("decode_tokens_per_second", .double).notNull()
        t.column("status", .integer).notNull()
        t.column("finish_reason", .text)
      }
      try db.create(index: "usage_by_time", on: "usage", columns: ["created_at"])
    }
    // Secrets that belong with the records, such as the HMAC key behind `api_key_id` (rows written
    // before v2 carry the older unsalted FNV-1a ids).
    migrator.registerMigration("v2-secrets") { db in
      try db.create(table: "secret") { t in
        t.primaryKey("name", .text)
        t.column("value", .blob).notNull()
      }
    }
    migrator.registerMigration("accounts-v1") { db in
      try db.alter(table: "usage") { t in
        t.add(column: "started_at", .double).notNull().defaults(to: 0)
        t.add(column: "charged_tokens", .integer).notNull().defaults(to: 0)
        t.add(column: "daily_tokens", .integer).notNull().defaults(to: 0)
        t.add(column: "pack_tokens", .integer).notNull().defaults(to: 0)
        t.add(column: "cost_input", .double).notNull().defaults(to: 0)
        t.add(column: "cost_output", .double).notNull().defaults(to: 0)
        t.add(column: "cost_machine", .double).notNull().defaults(to: 0)
        t.add(column: "batch", .boolean).notNull().defaults(to: false)
        t.add(column: "cache_hit", .boolean).notNull().defaults(to: false)
      }
      try db.create(index: "usage_by_key_time", on: "usage", columns: ["api_key_id", "created_at"])
      try db.create(table: "tiers") { t in
        t.primaryKey("name", .text)
        t.column("daily_tokens", .integer)
        t.column("requests_per_minute", .integer)
      }
      for tier in Tier.defaults {
        try db.execute(
          sql: "INSERT INTO tiers (name, daily_tokens, requests_per_minute) VALUES (?, ?, ?)",
          arguments: [tier.name, tier.dailyTokens, tier.requestsPerMinute])
      }
      try db.create(table: "api_keys") { t in
        t.primaryKey("id", .text)
        t.column("hash", .text).notNull().unique()
        t.column("prefix", .text).notNull()
        t.column("name", .text).notNull()
        t.column("tier", .text).notNull().references("tiers", column: "name", onUpdate: .cascade)
        t.column("created_at", .double).notNull()
        t.column("revoked_at", .double)
        t.column("pack_tokens", .integer).notNull().defaults(to: 0)
      }
      try db.create(table: "top_ups") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("key_id", .text).notNull().references("api_keys", onDelete: .cascade)
        t.column("tokens", .integer).notNull()
        t.column("created_at", .double).notNull()
      }
      try db.create(table: "reservations") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("principal", .text).notNull()
        t.column("request_id", .text).notNull()
        t.column("tokens", .integer).notNull()
        t.column("owner", .text).notNull()
        t.column("created_at", .double).notNull()
      }
      try db.create(index: "reservations_by_principal", on: "reservations", columns: ["principal"])
      try db.create(table: "stored_completions") { t in
        t.primaryKey("id", .text)
        t.column("principal", .text).notNull()
        t.column("created_at", .double).notNull()
        t.column("model", .text).notNull()
        t.column("request", .text).notNull()
        t.column("response", .text).notNull()
        t.column("metadata", .text)
      }
      try db.create(
        index: "stored_by_principal", on: "stored_completions", columns: ["principal", "created_at"])
    }
    // Files uploaded for batches (bytes on disk, one row each) and batch jobs with one row per
    // input line: a line's result is written in the same transaction as its usage row, so a
    // restarted server knows exactly which lines are done and charged.
    migrator.registerMigration("batch-v1") { db in
      try db.create(table: "files") { t in
        t.primaryKey("id", .text)
        t.column("owner", .text).notNull()
        t.column("filename", .text).notNull()
        t.column("purpose", .text).notNull()
        t.column("bytes", .integer).notNull()
        t.column("created_at", .double).notNull()
        t.column("path", .text).notNull()
      }
      try db.create(index: "files_by_owner", on: "files", columns: ["owner", "created_at"])
      try db.create(table: "batches") { t in
        t.primaryKey("id", .text)
        t.column("owner", .text).notNull()
        t.column("owner_kind", .text).notNull()
        t.column("endpoint", .text).notNull()
        t.column("input_file_id", .text).notNull()
        t.column("completion_window", .text).notNull()
        t.column("metadata", .text)
        t.column("status", .text).notNull()
        t.column("errors", .text)
        t.column("output_file_id", .text)
        t.column("error_file_id", .text)
        t.column("created_at", .double).notNull()
        t.column("in_progress_at", .double)
        t.column("expires_at", .double).notNull()
        t.column("finalizing_at", .double)
        t.column("completed_at", .double)
        t.column("failed_at", .double)
        t.column("expired_at", .double)
        t.column("cancelling_at", .double)
        t.column("cancelled_at", .double)
        t.column("total", .integer).notNull().defaults(to: 0)
      }
      try db.create(index: "batches_by_owner", on: "batches", columns: ["owner", "created_at"])
      try db.create(table: "batch_lines") { t in
        t.column("batch_id", .text).notNull().references("batches", onDelete: .cascade)
        t.column("line", .integer).notNull()
        t.column("custom_id", .text).notNull()
        t.column("body", .text).notNull()
        t.column("status_code", .integer)
        t.column("response", .text)
        t.column("error", .text)
        t.column("request_id", .text)
        t.column("finished_at", .double)
        t.primaryKey(["batch_id", "line"])
        t.uniqueKey(["batch_id", "custom_id"])
      }
    }
    // Responses kept by `POST /v1/responses` (`store`, default true): the response object and the
    // whole conversation up to and including its output, so `previous_response_id` continues it.
    migrator.registerMigration("responses-v1") { db in
      try db.create(table: "stored_responses") { t in
        t.primaryKey("id", .text)
        t.column("principal", .text).notNull()
        t.column("created_at", .double).notNull()
        t.column("model", .text).notNull()
        t.column("previous_response_id", .text)
        t.column("response", .text).notNull()
        t.column("conversation", .text).notNull()
      }
      try db.create(index: "responses_by_principal", on: "stored_responses", columns: ["principal", "created_at"])
    }
    return migrator
  }
}
