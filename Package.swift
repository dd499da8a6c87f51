// swift-tools-version: 6.0
import PackageDescription

// MARK: - Build settings

/// Release builds target this machine's CPU: without a target CPU, SIMD FMA and
/// bf16/f16 conversions compile to scalar library calls.
let nativeCPU: [SwiftSetting] = [
  .unsafeFlags(["-target-cpu", "native", "-Xcc", "-march=native"], .when(configuration: .release)),
]

/// The same for the C loops of CLomoSIMD (AVX-512 where the machine has it).
let nativeC: [CSetting] = [
  .unsafeFlags(["-O3", "-march=native"], .when(configuration: .release)),
]

// MARK: - Package

let package = Package(
  name: "lomo",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "lomo", targets: ["lomo"]),
    .library(name: "LomoKernels", targets: ["LomoKernels"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
  ],
  targets: [
    // oneDNN (Debian's libdnnl-dev) for f32 sgemm and bf16 matmul; OpenMP (libgomp) for its threads.
    .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", providers: [.apt(["libdnnl-dev"])]),
    // Open MPI (Debian's libopenmpi-dev) for training across processes and machines.
    .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                   providers: [.apt(["libopenmpi-dev"])]),
    // bf16 <-> f32 conversion loops that the C compiler vectorises (LomoCore's `Convert`).
    .target(name: "CLomoSIMD", cSettings: nativeC),
    .target(name: "LomoCore", dependencies: ["CLomoSIMD"], swiftSettings: nativeCPU),
    // The ranks of a job and their collectives (a world of one without mpirun).
    .target(name: "LomoDistributed", dependencies: ["CMPI", "LomoCore"], swiftSettings: nativeCPU),
    .target(name: "LomoKernels", dependencies: ["CDNNL", "LomoCore"], swiftSettings: nativeCPU),
    // Model file formats: GGUF (reader, dequantisation, llama.cpp's Q/K row permutation) and
    // safetensors.
    .target(name: "LomoFormats", dependencies: ["LomoCore"], swiftSettings: nativeCPU),
    .target(
      name: "LomoModel", dependencies: ["LomoCore", "LomoDistributed", "LomoKernels", "LomoFormats"],
      swiftSettings: nativeCPU),
    .target(
      name: "LomoOptim", dependencies: ["CLomoSIMD", "LomoCore", "LomoDistributed", "LomoKernels", "LomoModel"],
      swiftSettings: nativeCPU),
    // Datasets and prompt templates, batching, the training loop, evaluation, checkpoints.
    .target(
      name: "LomoTrain",
      dependencies: ["LomoCore", "LomoKernels", "LomoModel", "LomoOptim", "LomoTokenizer", "LomoFormats"],
      swiftSettings: nativeCPU),
    // Byte-level and SentencePiece BPE, from GGUF metadata or tokenizer.json.
    .target(name: "LomoTokenizer", dependencies: ["LomoCore", "LomoFormats"], swiftSettings: nativeCPU),
    // The command-line interface: commands over shared option groups, config files, errors.
    .target(
      name: "LomoCLI",
      dependencies: [
        "LomoCore", "LomoDistributed", "LomoKernels", "LomoFormats", "LomoModel", "LomoOptim", "LomoTokenizer",
        "LomoTrain", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: nativeCPU),
    .executableTarget(name: "lomo", dependencies: ["LomoCLI"], swiftSettings: nativeCPU),
    // Tolerance checks, finite differences, fixtures, test models and scratch folders shared by
    // the test targets.
    .target(name: "LomoTestSupport", dependencies: ["LomoCore", "LomoFormats", "LomoModel"], path: "Tests/LomoTestSupport"),
    .testTarget(
      name: "LomoCoreTests", dependencies: ["LomoCore", "LomoTestSupport"],
      swiftSettings: nativeCPU),
    .testTarget(
      name: "LomoDistributedTests", dependencies: ["LomoDistributed", "LomoCore"],
      swiftSettings: nativeCPU),
    .testTarget(
      name: "LomoKernelsTests", dependencies: ["LomoKernels", "LomoCore", "LomoTestSupport"],
      resources: [.copy("Fixtures")], swiftSettings: nativeCPU),
    .testTarget(
      name: "LomoFormatsTests", dependencies: ["LomoFormats", "LomoCore", "LomoModel", "LomoTestSupport"],
      resources: [.copy("Fixtures")], swiftSettings: nativeCPU),
    .testTarget(
      name: "LomoModelTests",
      dependencies: ["LomoModel", "LomoKernels", "LomoCore", "LomoFormats", "LomoTestSupport"],
      resources: [.copy("Fixtures")], swiftSettings: nativeCPU),
    .testTarget(
      name: "LomoOptimTests",
      dependencies: ["LomoOptim", "LomoModel", "LomoCore", "LomoFormats", "LomoTestSupport"],
      resources: [.copy("Fixtures")], swiftSettings: nativeCPU),
    .testTarget(
      name: "LomoTrainTests",
      dependencies: ["LomoTrain", "LomoModel", "LomoOptim", "LomoTokenizer", "LomoCore", "LomoTestSupport"],
      swiftSettings: nativeCPU),
    .testTarget(
      name: "LomoCLITests",
      dependencies: ["LomoCLI", "LomoTrain", "LomoFormats", "LomoOptim", "LomoModel", "LomoCore", "LomoTestSupport",
                     .product(name: "ArgumentParser", package: "swift-argument-parser")],
      swiftSettings: nativeCPU),
    .testTarget(
      name: "LomoTokenizerTests",
      dependencies: ["LomoTokenizer", "LomoFormats", "LomoModel", "LomoTestSupport"],
      resources: [.copy("Fixtures")], swiftSettings: nativeCPU),
  ]
)
