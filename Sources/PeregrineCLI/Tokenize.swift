import ArgumentParser
import Foundation

struct Tokenize: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Print the token ids of a text as a JSON array.")

  @OptionGroup var modelOptions: ModelOptions
  @Flag(name: .customLong("add-special"), help: "Add BOS/EOS as the model's metadata says.") var addSpecial = false
  @Flag(name: .customLong("no-parse-special"), help: "Treat special-token text as plain text.") var noParseSpecial = false
  @Flag(help: "Print each id with its piece.") var pieces = false
  @Argument(help: "The text to tokenize.") var text: String

  func run() throws {
    let tokenizer = try modelOptions.loadTokenizer()
    let ids = tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: !noParseSpecial)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    if pieces {
      struct Entry: Encodable {
        var id: Int32
        var piece: String
      }
      let entries = ids.map { Entry(id: $0, piece: String(decoding: tokenizer.piece($0, special: true), as: UTF8.self)) }
      print(String(decoding: try encoder.encode(entries), as: UTF8.self))
    } else {
      print(String(decoding: try encoder.encode(ids), as: UTF8.self))
    }
  }
}
