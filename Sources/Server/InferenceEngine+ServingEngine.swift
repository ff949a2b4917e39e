import Engine

/// The real engine is what the server drives.
extension InferenceEngine: ServingEngine {
  public var hasDraftModel: Bool { draftModel != nil }
  public var capacityTokens: Int { cacheCapacityTokens }
  public var engineConfiguration: EngineConfiguration? { configuration }
}
