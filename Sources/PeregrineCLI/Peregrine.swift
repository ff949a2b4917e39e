import ArgumentParser

@main
struct Peregrine: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "peregrine",
    abstract: "Run GGUF language models fast on CPUs.",
    version: "0.1.0",
    subcommands: [
      Serve.self, Run.self, Chat.self, Pull.self, ListModels.self, Show.self, RemoveModel.self, Ps.self, BenchGroup.self,
      Tokenize.self, Inspect.self, PerplexityCommand.self, Quantize.self, Keys.self, UsageCommand.self, Count.self, BatchCommand.self,
    ])
}
