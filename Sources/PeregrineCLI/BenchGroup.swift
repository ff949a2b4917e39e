import ArgumentParser

/// `peregrine bench …`: measurement commands.
struct BenchGroup: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench", abstract: "Benchmarks.", subcommands: [Bench.self, BenchServe.self],
    defaultSubcommand: Bench.self)
}
