import Accounts
import Foundation
import Testing

@testable import PeregrineCLI

/// `--price` as flag text, a JSON file and a TOML file give the same table, and a bad file is a
/// clear error naming the flag.
@Suite struct PriceFlagTests {
  func file(_ name: String, _ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-price-\(UUID().uuidString)-\(name)").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func textJSONAndTOMLAgree() throws {
    let expected = PriceTable(input: 0.1, output: 0.4, cached: 0.05)
    #expect(try EconomicsFlags.parse(["--price", "input=0.1,output=0.4,cached=0.05"]).prices() == expected)
    let json = try file("p.json", #"{"input": 0.1, "output": 0.4, "cached": 0.05}"#)
    #expect(try EconomicsFlags.parse(["--price", json]).prices() == expected)
    let toml = try file("p.toml", "[prices]\ninput = 0.1  # per 1M\noutput = 0.4\ncached = 0.05\n")
    #expect(try EconomicsFlags.parse(["--price", toml]).prices() == expected)
  }

  @Test func badFilesAreRefused() throws {
    let missing = try file("m.json", #"{"output": 0.4}"#)
    #expect(throws: (any Error).self) { try EconomicsFlags.parse(["--price", missing]).prices() }
    let negative = try file("n.json", #"{"input": -1, "output": 0.4}"#)
    #expect(throws: (any Error).self) { try EconomicsFlags.parse(["--price", negative]).prices() }
    #expect(throws: (any Error).self) { try EconomicsFlags.parse(["--price", "/nonexistent/prices.json"]).prices() }
  }
}
