import Foundation
import LomoCore
import LomoFormats
import LomoModel

/// `Fixtures/optimizer-runs.json` from scripts/make_optimizer_fixtures.py: the batch, and per
/// lomo-optim run its settings, per-step losses, measured norms and (in runs/<name>.safetensors)
/// the final parameters.
struct OptimizerFixture: Decodable {
  struct Run: Decodable {
    let kind: String
    let lr: Float
    let clipGradNorm: Float?
    let clipGradValue: Float?
    let weightDecay: Float?
    let lossScale: Float?
    let losses: [Double]
    let finalLoss: Double
    let totalNorms: [Double]
  }

  let steps: Int
  let batch: Int
  let time: Int
  let tokens: [Int32]
  let labels: [Int32]
  let targets: [Int32]
  let runs: [String: Run]

  static var directory: URL {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
  }

  static func load() throws -> OptimizerFixture {
    try JSONDecoder().decode(
      OptimizerFixture.self,
      from: Data(contentsOf: directory.appendingPathComponent("optimizer-runs.json")))
  }

  static var modelDirectory: String { directory.appendingPathComponent("tiny-llama").path }

  /// The tiny model's initial weights in `dtype`.
  static func loadParameters(dtype: DType = .f32, ledger: MemoryLedger = .shared) throws
    -> LlamaParameters
  {
    try ModelSource.huggingFace(modelDirectory).loadParameters(dtype: dtype, ledger: ledger)
  }

  /// Final parameters of run `name`, by Hugging Face tensor name.
  static func finalParameters(of name: String, config: LlamaConfig) throws -> [ParameterID: [Float]] {
    let file = try SafetensorsFile(
      path: directory.appendingPathComponent("runs/\(name).safetensors").path)
    var out: [ParameterID: [Float]] = [:]
    for id in ParameterID.all(for: config) {
      let shape = id.shape(in: config)
      var values = [Float](repeating: 0, count: shape.reduce(1, *))
      try values.withUnsafeMutableBufferPointer {
        try file.readFloats(id.description, expectedShape: shape, into: $0.baseAddress!)
      }
      out[id] = values
    }
    return out
  }
}

/// A tiny random LLaMA and batch for tests that need no reference.
enum TinyModel {
  static func config(tied: Bool) -> LlamaConfig {
    LlamaConfig(layers: 2, hiddenSize: 32, intermediateSize: 48, heads: 4, kvHeads: 2,
                vocabSize: 64, tiedEmbeddings: tied, maxContext: 32)
  }

  static let (batch, time) = (2, 12)
  static var tokens: [Int32] { (0..<batch * time).map { Int32(($0 * 13 + 5) % 64) } }
  static var targets: [Int32] {
    (0..<batch * time).map { $0 % time == time - 1 || $0 == 3 ? -100 : Int32(($0 * 7 + 2) % 64) }
  }

  /// A deep copy of `params` (same dtype), on `ledger`.
  static func copy(_ params: LlamaParameters, ledger: MemoryLedger = .shared) -> LlamaParameters {
    let out = LlamaParameters(config: params.config, dtype: params.dtype, ledger: ledger)
    for (a, b) in zip(params.all, out.all) {
      switch (a.storage, b.storage) {
      case (.f32(let x), .f32(let y)): y.pointer.update(from: x.pointer, count: a.count)
      case (.bf16(let x), .bf16(let y)): y.pointer.update(from: x.pointer, count: a.count)
      case (.f16(let x), .f16(let y)): y.pointer.update(from: x.pointer, count: a.count)
      default: preconditionFailure("dtype mismatch")
      }
    }
    return out
  }
}
