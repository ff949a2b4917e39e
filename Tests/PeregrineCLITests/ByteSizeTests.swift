import Engine
import Testing

@testable import PeregrineCLI

@Suite struct ByteSizeTests {
  @Test func unitsAreReadTheSameEverywhere() {
    #expect(ByteSize(argument: "256MiB") == ByteSize(bytes: 256 << 20))
    #expect(ByteSize(argument: "2GiB")?.bytes == 2 << 30)
    #expect(ByteSize(argument: "1.5G")?.bytes == 3 << 29)
    #expect(ByteSize(argument: "512M")?.bytes == 512 << 20)
    #expect(ByteSize(argument: "800MB")?.bytes == 800_000_000)
    #expect(ByteSize(argument: "4096") == ByteSize(bytes: 4096, hasUnit: false))
    for bad in ["", "lots", "-1MiB", "0", "MiB", "1e400GiB"] { #expect(ByteSize(argument: bad) == nil, "\(bad)") }
  }

  @Test func aBareNumberBelowOneBlockIsRefusedWithTheFix() throws {
    let why = try #require(ByteSize.kvCacheProblem(ByteSize(argument: "256")!))
    #expect(why.contains("256 bytes") && why.contains("256MiB"))
    #expect(ByteSize.kvCacheProblem(ByteSize(argument: "256KiB")!) != nil)
    #expect(ByteSize.kvCacheProblem(ByteSize(argument: "256MiB")!) == nil)
    #expect(ByteSize.kvCacheProblem(ByteSize(argument: "1073741824")!) == nil)
  }

  @Test func samplingFlagsLeftOutTakeTheModelsDefaults() throws {
    var recommended = SamplingDefaults.llamaCpp
    recommended.parameters.temperature = 0.3
    recommended.parameters.topK = 20
    let flags = try SamplingOptions.parse(["--top-k", "5"])
    let p = flags.parameters(recommended, seed: 99)
    #expect(p.temperature == 0.3 && p.topK == 5 && p.topP == 0.95 && p.minP == 0.05 && p.seed == 99)
    #expect(try SamplingOptions.parse(["--seed", "7"]).parameters(.llamaCpp, seed: 99).seed == 7)
    #expect(throws: (any Error).self) { try SamplingOptions.parse(["--top-p", "0"]) }
  }
}
