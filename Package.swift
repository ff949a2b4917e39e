// swift-tools-version:6.0
import PackageDescription

// Kernels are compiled for the AVX2 baseline (haswell: AVX2, FMA, F16C): without an explicit CPU target
// Swift lowers FMA and Float16 conversions to library calls (see KERNEL-NOTES). Wider ISAs are chosen
// at run time, never baked in with -march=native.
let kernelFlags: [SwiftSetting] = [
  .unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mf16c", "-target-cpu", "haswell"]),
  .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
]

// Every file of the web pages (Sources/Server/Web/Assets); each must also be named in WebAsset.all.
let webAssets = [
  "playground.html", "dashboard.html", "base.css", "playground.css", "dashboard.css", "api.js", "format.js", "markdown.js",
  "store.js", "transcript.js", "playground.js", "charts.js", "dashboard.js",
]

let package = Package(
  name: "Peregrine",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "peregrine", targets: ["PeregrineCLI"]),
    .library(
      name: "Peregrine", targets: ["GGUF", "Kernels", "Tokenizers", "Templates", "Constraints", "Models", "Engine", "Hub", "Accounts"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
  ],
  targets: [
    // File format: GGUF reader and writer, metadata values, tensor type table.
    .target(name: "GGUF"),
    // Hand-written SIMD kernels in C: per-function target attributes (AVX2, AVX-512 VNNI) chosen at
    // run time from CPUID, so the package itself needs no -march flag.
    .target(name: "KernelsC", cSettings: [.unsafeFlags(["-O3"], .when(configuration: .release))]),
    // Quant blocks, dequantization, dot products, matmul, element-wise ops, thread pool.
    .target(name: "Kernels", dependencies: ["GGUF", "KernelsC"], swiftSettings: kernelFlags),
    // Byte-level BPE (and later SentencePiece) tokenizers, streaming detokenizer.
    .target(name: "Tokenizers", dependencies: ["GGUF"]),
    // Jinja-subset interpreter for chat templates, and the JSON values requests carry.
    .target(name: "Templates"),
    // Constrained decoding: JSON Schema grammars compiled to a byte automaton, the vocabulary trie
    // that masks logits with it, tool-call grammars, and the `TokenConstraint` interface the engine
    // calls per step. Knows tokens and JSON values, nothing of models or HTTP.
    .target(name: "Constraints", dependencies: ["Templates", "Tokenizers"]),
    // One file per architecture, shared layers, the architecture registry.
    .target(name: "Models", dependencies: ["GGUF", "Kernels", "Tokenizers"], swiftSettings: kernelFlags),
    // Sampling, generation, chat templates, perplexity.
    .target(
      name: "Engine",
      dependencies: ["GGUF", "Models", "Tokenizers", "Templates", "Constraints", .product(name: "Logging", package: "swift-log")]),
    // Known models and fetching them into the local cache.
    .target(name: "Hub", dependencies: [.product(name: "Logging", package: "swift-log")]),
    // Keys (hashed), tiers, allowances (reserve then settle), prices, the usage ledger, stored
    // completions, key ids (HMAC) and prefix-cache namespaces, over GRDB. No HTTP types, so serve,
    // batch runs and the keys/usage commands share it.
    .target(name: "Accounts", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
    // OpenAI-compatible HTTP server: routes, OpenAI wire types, auth, metrics, usage records.
    // Hummingbird types stay inside this target.
    .target(
      name: "Server",
      dependencies: [
        "Templates", "Constraints", "Accounts",
        "Engine", "Models", "Tokenizers", "Hub",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
        .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
      ],
      // The playground and dashboard (Web/Assets) compiled into the binary as byte arrays
      // (PackageResources.<name>): `peregrine serve` works offline with nothing beside it.
      resources: webAssets.map { .embedInCode("Web/Assets/" + $0) }),
    .executableTarget(
      name: "PeregrineCLI",
      dependencies: [
        "Engine", "Hub", "GGUF", "Kernels", "KernelsC", "Models", "Templates", "Tokenizers", "Server", "Accounts",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    .target(name: "TestSupport", dependencies: ["GGUF", "Tokenizers", "Templates", "Models", "Hub", "Kernels"], path: "Tests/TestSupport"),
    .testTarget(name: "GGUFTests", dependencies: ["GGUF", "TestSupport"]),
    .testTarget(name: "KernelsTests", dependencies: ["Kernels", "KernelsC", "GGUF", "TestSupport"]),
    .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "TestSupport"]),
    .testTarget(
      name: "ModelsTests", dependencies: ["Models", "Engine", "GGUF", "Tokenizers", "TestSupport", "Kernels"],
      exclude: ["Fixtures"]),
    .testTarget(name: "ConstraintsTests", dependencies: ["Constraints", "Templates", "Tokenizers", "TestSupport"]),
    .testTarget(name: "EngineTests", dependencies: ["Engine", "Constraints", "Templates", "Models", "Tokenizers", "GGUF", "TestSupport", "Kernels"]),
    // The slow tier (scripts/arch-tests.sh): generated qwen2/qwen3/qwen3moe/llama3 models vs llama.cpp.
    .testTarget(name: "ArchitectureTests", dependencies: ["Engine", "Models", "Tokenizers", "GGUF", "TestSupport", "Kernels"]),
    .testTarget(
      name: "AccountsTests", dependencies: ["Accounts", .product(name: "GRDB", package: "GRDB.swift")]),
    .testTarget(
      name: "ServerTests",
      dependencies: [
        "Server", "Accounts", "Constraints", "Engine", "Models", "Tokenizers", "GGUF", "TestSupport",
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
      ],
      exclude: ["openai_client_test.py", "fuzz_test.py", "operations_test.py", "architecture_chat_test.py"]),
    // The command line's own pieces (line editor, size syntax, sampling flags); its process-level
    // tests (every --help, list/show/rm) are commands_test.py, run by scripts/cli-tests.sh.
    .testTarget(name: "PeregrineCLITests", dependencies: ["PeregrineCLI", "Engine"], exclude: ["commands_test.py"]),
    // The model store: checksums of what `pull` fetches.
    .testTarget(name: "HubTests", dependencies: ["Hub"]),
  ],
  swiftLanguageModes: [.v5]
)
