import ArgumentParser

@main
struct Peregrine: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "peregrine",
    abstract: "Run GGUF language models fast on CPUs.",
    version: "0.1.0",
    subcommands: [
      Run.self, Chat.self, Serve.self, Tokenize.self, Inspect.self, PerplexityCommand.self, Pull.self, BenchGroup.self,
      Quantize.self, Keys.self, UsageCommand.self, Count.self, BatchCommand.self,
    ])
}
