import Foundation

@testable import Engine
@testable import Server

/// A model context without weights: every whitespace-separated word is one token, a chat is its
/// words plus two tokens of template per message.
func testContext(contextLength: Int = 100, vocabularySize: Int = 1000) -> ModelContext {
  ModelContext(
    name: "test-model", aliases: ["test.gguf"], contextLength: contextLength, vocabularySize: vocabularySize,
    encodePrompt: { text in text.split(separator: " ").map { Int32($0.count % 1000) } },
    encodeChat: { messages in
      messages.flatMap { m in [1, 2] + m.content.split(separator: " ").map { Int32($0.count % 1000) } }
    },
    makeConstraint: nil)
}

func mapper(contextLength: Int = 100) -> RequestMapper {
  var m = RequestMapper(model: testContext(contextLength: contextLength))
  m.randomSeed = { 42 }
  return m
}

func decode<T: Decodable>(_ type: T.Type, _ json: String) throws(APIError) -> T {
  try RequestBodyReader.decode(type, from: Data(json.utf8))
}

/// The error a throwing closure throws, or nil.
func apiError(_ body: () throws -> Void) -> APIError? {
  do {
    try body()
    return nil
  } catch {
    return error as? APIError
  }
}
