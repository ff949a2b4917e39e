/// OpenAI's `stop`: one string or a list of up to four (we allow more).
struct StopSequences: Sendable, Equatable, Decodable {
  var values: [String]

  init(_ values: [String]) { self.values = values }

  init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() {
      values = []
    } else if let one = try? c.decode(String.self) {
      values = [one]
    } else {
      values = try c.decode([String].self)
    }
  }
}
