import LomoCore
import LomoModel
import LomoOptim
import LomoTestSupport
import XCTest

/// A step over K = 4 micro-batches of 2 sequences is the step over the batch of 8 (uneven token
/// counts per micro-batch): LOMO, AdaLomo and the SGD and AdamW baselines, each with and without
/// global-norm clipping, for two steps (the second forward sees the first update), f32 within
/// 1e-6 relative (AdamW looser: see below); f16 with dynamic loss scaling and bf16 with
/// stochastic rounding deterministic and close to the whole batch.
final class AccumulatedStepTests: XCTestCase {
  static let (batch, time) = (8, 10)
  static let tokens: [Int32] = (0..<batch * time).map { Int32(($0 * 13 + 5) % 64) }
  /// 1 to 9 trained positions per sequence: micro-batch token counts 10, 5, 13 and 9.
  static let targets: [Int32] = (0..<batch * time).map { i in
    let row = i / time, t = i % time
    return t >= [9, 1, 3, 2, 8, 5, 4, 5][row] ? -100 : Int32((i * 7 + 2) % 64)
  }

  typealias MakeOptimizer = (LlamaParameters) -> any StepOptimizer

  static let learningRates: [(optimizer: String, lr: Float)] = [
    ("lomo", 0.3), ("adalomo", 1e-2), ("sgd", 0.3), ("adamw", 1e-2),
  ]

  /// The optimizer `name`; the baselines clip by `maxNorm` with their own norm in finishStep.
  static func optimizer(_ name: String, maxNorm: Float?) -> MakeOptimizer {
    switch name {
    case "lomo": { _ in LOMO() }
    case "adalomo": { AdaLomo(parameters: $0) }
    case "sgd": { SGDBaseline(parameters: $0, options: LOMO.Options(), clipGradNorm: maxNorm) }
    default: { AdamWBaseline(parameters: $0, options: AdamWBaseline.Options(clipGradNorm: maxNorm)) }
    }
  }

  /// Parameters after two steps from `start` (copied) over the batch in `microBatches`.
  /// With `sliceRows`, an untied LM head and embedding are handed over in slices of that many rows.
  func train(_ start: LlamaParameters, _ make: MakeOptimizer, lr: Float, clipping: GradientClipping,
             microBatches: Int, lossScaler: DynamicLossScaler? = nil, sliceRows: Int? = nil)
    -> (LlamaParameters, [StepReport])
  {
    let params = TinyModel.copy(start)
    let model = LlamaModel(parameters: params)
    model.vocabularySliceRows = sliceRows
    let driver = LomoStep(model: model, optimizer: make(params), clipping: clipping, lossScaler: lossScaler)
    let reports = (0..<2).map { _ in
      driver.step(tokens: Self.tokens, targets: Self.targets, batch: Self.batch, time: Self.time,
                  microBatches: microBatches, learningRate: lr)
    }
    return (params, reports)
  }

  /// The largest |a − b| of a tensor over its largest |b|, and the same for the update from
  /// `start` (a relative measure that does not hide in the weights' own size).
  func differences(_ a: LlamaParameters, _ b: LlamaParameters, start: LlamaParameters)
    -> [(ParameterID, weights: Float, update: Float)]
  {
    zip(zip(a.all, b.all), start.all).map { pair, s in
      let (x, y, w) = (pair.0.floatValues(), pair.1.floatValues(), s.floatValues())
      let weights = zip(x, y).map { abs($0 - $1) }.max()! / max(y.map(abs).max()!, 1e-30)
      let update = zip(x, y).map { abs($0 - $1) }.max()!
        / max(zip(y, w).map { abs($0 - $1) }.max()!, 1e-30)
      return (pair.0.id, weights, update)
    }
  }

  func testFourMicroBatchesOfTwoEqualOneBatchOfEightInF32() {
    for tied in [false, true] {
      let start = LlamaParameters.random(config: TinyModel.config(tied: tied), dtype: .f32, seed: 11, std: 0.2)
      for (name, lr) in Self.learningRates {
        for maxNorm in [nil, Float(0.5)] {
          let label = "tied=\(tied) \(name) clip \(maxNorm.map { "\($0)" } ?? "off")"
          let make = Self.optimizer(name, maxNorm: maxNorm)
          let clipping = maxNorm.map { GradientClipping.globalNorm($0) } ?? .none
          let (whole, wholeReports) = train(start, make, lr: lr, clipping: clipping, microBatches: 1)
          let (parts, partReports) = train(start, make, lr: lr, clipping: clipping, microBatches: 4)
          for (a, b) in zip(partReports, wholeReports) {
            XCTAssertNil(a.failure, label)
            XCTAssertEqual(a.tokenCount, b.tokenCount, label)
            XCTAssertEqual(a.loss, b.loss, accuracy: 1e-5 * b.loss, label)
            XCTAssertEqual(a.backwardPasses, b.backwardPasses, label)
          }
          XCTAssertNotEqual(whole.storageBits, start.storageBits, "\(label): no update")
          // AdamW's first steps are nearly sign(g)·lr, and a gradient element that cancels to
          // about eps (1e-8) keeps the f32 rounding of its sum's order (relative 1e-2 and more)
          // in its update: the same step, not the same rounding.
          let (weightTolerance, updateTolerance): (Float, Float) = name == "adamw" ? (1e-3, 5e-2) : (1e-6, 1e-4)
          for (id, weights, update) in differences(parts, whole, start: start) {
            XCTAssertLessThanOrEqual(weights, weightTolerance, "\(label) \(id) weights")
            XCTAssertLessThanOrEqual(update, updateTolerance, "\(label) \(id) update")
          }
        }
      }
    }
  }

  /// The same with the untied [V, C] gradients in slices (C = 64, V = 256 in four slices):
  /// four micro-batches in slices equal one batch handed over whole, for LOMO and AdaLomo.
  func testMicroBatchesInVocabularySlicesEqualOneWholeBatch() {
    let config = LlamaConfig(layers: 2, hiddenSize: 64, intermediateSize: 96, heads: 4, kvHeads: 2,
                             vocabSize: 256, tiedEmbeddings: false, maxContext: 32)
    let start = LlamaParameters.random(config: config, dtype: .f32, seed: 13, std: 0.2)
    for (name, lr) in Self.learningRates where name == "lomo" || name == "adalomo" {
      for maxNorm in [nil, Float(0.5)] {
        let label = "\(name) clip \(maxNorm.map { "\($0)" } ?? "off")"
        let make = Self.optimizer(name, maxNorm: maxNorm)
        let clipping = maxNorm.map { GradientClipping.globalNorm($0) } ?? .none
        let (whole, _) = train(start, make, lr: lr, clipping: clipping, microBatches: 1)
        let (parts, _) = train(start, make, lr: lr, clipping: clipping, microBatches: 4, sliceRows: 64)
        for (id, weights, update) in differences(parts, whole, start: start) {
          XCTAssertLessThanOrEqual(weights, 1e-6, "\(label) \(id) weights")
          XCTAssertLessThanOrEqual(update, 1e-4, "\(label) \(id) update")
        }
      }
    }
  }

  func testSixteenBitStorageIsDeterministicAndCloseToTheWholeBatch() {
    for dtype in [DType.bf16, .f16] {
      let start = LlamaParameters.random(config: TinyModel.config(tied: true), dtype: dtype, seed: 12, std: 0.2)
      let scaler = { dtype == .f16 ? DynamicLossScaler(initialScale: 1024) : nil }
      let lomo: MakeOptimizer = { _ in LOMO() }
      let (first, reports) = train(start, lomo, lr: 0.3, clipping: .globalNorm(0.5), microBatches: 4, lossScaler: scaler())
      let (second, _) = train(start, lomo, lr: 0.3, clipping: .globalNorm(0.5), microBatches: 4, lossScaler: scaler())
      let (whole, _) = train(start, lomo, lr: 0.3, clipping: .globalNorm(0.5), microBatches: 1, lossScaler: scaler())
      XCTAssertTrue(reports.allSatisfy { $0.failure == nil && !$0.skipped }, "\(dtype)")
      XCTAssertEqual(first.storageBits, second.storageBits, "\(dtype)")
      XCTAssertNotEqual(first.storageBits, start.storageBits, "\(dtype): no update")
      for (id, _, update) in differences(first, whole, start: start) {
        // Stochastic rounding and 16-bit operands: the same step up to a few storage ulps.
        XCTAssertLessThanOrEqual(update, 0.1, "\(dtype) \(id)")
      }
    }
  }
}
