/// `GET /v1/models`.
struct ModelList: Sendable, Encodable {
  struct Entry: Sendable, Encodable {
    var id: String
    var object = "model"
    var created: Int
    var ownedBy = "peregrine"
    var maxModelLen: Int?

    enum CodingKeys: String, CodingKey {
      case id, object, created
      case ownedBy = "owned_by"
      case maxModelLen = "max_model_len"
    }
  }

  var object = "list"
  var data: [Entry]
}
