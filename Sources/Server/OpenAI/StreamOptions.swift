/// OpenAI's `stream_options`.
struct StreamOptions: Sendable, Equatable, Decodable {
  /// Send one more chunk before `[DONE]` whose `usage` covers the whole request.
  var includeUsage: Bool?

  enum CodingKeys: String, CodingKey {
    case includeUsage = "include_usage"
  }
}
