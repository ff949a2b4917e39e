import Engine

/// What the model loader hands the server once weights are in memory.
public struct ServedModel: Sendable {
  public var engine: any ServingEngine
  public var template: ChatTemplate
  /// What requests get for the sampling parameters they leave out.
  public var samplingDefaults: SamplingDefaults

  public init(engine: any ServingEngine, template: ChatTemplate, samplingDefaults: SamplingDefaults = .llamaCpp) {
    self.engine = engine
    self.template = template
    self.samplingDefaults = samplingDefaults
  }
}
