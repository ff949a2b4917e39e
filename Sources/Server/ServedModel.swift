import Engine

/// What the model loader hands the server once weights are in memory.
public struct ServedModel: Sendable {
  public var engine: any ServingEngine
  public var template: ChatTemplate

  public init(engine: any ServingEngine, template: ChatTemplate) {
    self.engine = engine
    self.template = template
  }
}
