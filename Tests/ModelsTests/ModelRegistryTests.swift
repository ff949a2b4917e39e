import Foundation
import GGUF
import Kernels
import Models
import Testing

@Suite("Model registry")
struct ModelRegistryTests {

  @Test("an unknown architecture is an error naming the supported ones")
  func unsupported() throws {
    var w = GGUFWriter()
    w.set("general.architecture", .string("mamba"))
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("registry-\(UUID()).gguf").path
    try w.write(to: path)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let file = try GGUFFile(path: path)
    #expect(throws: ModelError.unsupportedArchitecture("mamba", supported: ModelRegistry.supported)) {
      try ModelRegistry.load(file, pool: ThreadPool(threadCount: 1))
    }
    let message = ModelError.unsupportedArchitecture("mamba", supported: ModelRegistry.supported).description
    #expect(message == "architecture 'mamba' is not supported (supported: gemma3, llama, qwen2, qwen3, qwen3moe)")
  }
}
