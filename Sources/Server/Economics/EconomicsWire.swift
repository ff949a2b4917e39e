import Accounts
import Foundation

/// `POST …/input_tokens` (llama.cpp's and OpenAI's token counter).
struct InputTokensResponse: Encodable {
  var object = "response.input_tokens"
  var inputTokens: Int
  enum CodingKeys: String, CodingKey {
    case object
    case inputTokens = "input_tokens"
  }
}

/// `POST /v1/usage/estimate`: what a request would cost before it is sent.
struct UsageEstimate: Encodable {
  struct Range: Encodable {
    var min: Double
    var max: Double
  }
  struct Allowance: Encodable {
    var limitTokens: Int?
    var remainingTokens: Int?
    var packTokens: Int
    var resetsAt: Int?
    /// The request fits in what is left even if it uses all of `max_output_tokens`.
    var covers: Bool
    enum CodingKeys: String, CodingKey {
      case covers
      case limitTokens = "limit_tokens"
      case remainingTokens = "remaining_tokens"
      case packTokens = "pack_tokens"
      case resetsAt = "resets_at"
    }
  }

  var object = "usage.estimate"
  var promptTokens: Int
  var maxOutputTokens: Int
  var maxTotalTokens: Int
  /// Dollars: with no output at all, and with every allowed output token.
  var cost: Range?
  var allowance: Allowance?

  enum CodingKeys: String, CodingKey {
    case object, cost, allowance
    case promptTokens = "prompt_tokens"
    case maxOutputTokens = "max_output_tokens"
    case maxTotalTokens = "max_total_tokens"
  }
}

/// `GET /v1/usage`.
struct UsageReport: Encodable {
  struct Row: Encodable {
    var group: String
    var requests: Int
    var inputTokens: Int
    var cachedTokens: Int
    var outputTokens: Int
    var cost: Double
    enum CodingKeys: String, CodingKey {
      case group, requests, cost
      case inputTokens = "input_tokens"
      case cachedTokens = "cached_tokens"
      case outputTokens = "output_tokens"
    }
  }
  var object = "list"
  var groupBy: String
  var start: Int
  var end: Int
  var data: [Row]
  enum CodingKeys: String, CodingKey {
    case object, start, end, data
    case groupBy = "group_by"
  }
}

/// Admin API bodies.
struct CreateKeyRequest: Decodable {
  var name: String?
  var tier: String?
}

struct SetTierRequest: Decodable {
  var tier: String
}

struct TopUpRequest: Decodable {
  var tokens: Int
}

struct TierRequest: Decodable {
  var name: String
  var dailyTokens: Int?
  var requestsPerMinute: Int?
  enum CodingKeys: String, CodingKey {
    case name
    case dailyTokens = "daily_tokens"
    case requestsPerMinute = "requests_per_minute"
  }
}

/// A key as the admin API shows it (`secret` only in the answer to its creation).
struct KeyObject: Encodable {
  var object = "api_key"
  var id: String
  var name: String
  var prefix: String
  var tier: String
  var createdAt: Int
  var revokedAt: Int?
  var packTokens: Int
  var remainingTokens: Int?
  var secret: String?

  init(_ k: APIKey, remaining: Int?, secret: String? = nil) {
    id = k.id
    name = k.name
    prefix = k.prefix
    tier = k.tier
    createdAt = Int(k.createdAt)
    revokedAt = k.revokedAt.map(Int.init)
    packTokens = k.packTokens
    remainingTokens = remaining
    self.secret = secret
  }

  enum CodingKeys: String, CodingKey {
    case object, id, name, prefix, tier, secret
    case createdAt = "created_at"
    case revokedAt = "revoked_at"
    case packTokens = "pack_tokens"
    case remainingTokens = "remaining_tokens"
  }
}

struct TierObject: Encodable {
  var name: String
  var dailyTokens: Int?
  var requestsPerMinute: Int?
  init(_ t: Tier) {
    name = t.name
    dailyTokens = t.dailyTokens
    requestsPerMinute = t.requestsPerMinute
  }
  enum CodingKeys: String, CodingKey {
    case name
    case dailyTokens = "daily_tokens"
    case requestsPerMinute = "requests_per_minute"
  }
}

struct ListObject<T: Encodable>: Encodable {
  var object = "list"
  var data: [T]
}

struct DeletedObject: Encodable {
  var object: String
  var id: String
  var deleted = true
}
