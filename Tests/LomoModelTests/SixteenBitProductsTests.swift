import LomoCore
import LomoKernels
import LomoModel
import XCTest

/// bf16 weights multiply in bf16 (activations rounded to bf16) or in f32 (weights widened),
/// as `Runtime.sixteenBitProducts` says, from `LlamaModel.widenedRows` rows of a step on; a
/// step with fewer rows multiplies in bf16 either way. Both settings are checked on every
/// machine (the tests override the machine's choice).
final class SixteenBitProductsTests: XCTestCase {
  static let config = LlamaConfig(layers: 2, hiddenSize: 64, intermediateSize: 96, heads: 4, kvHeads: 2,
                                  vocabSize: 80, ropeTheta: 10_000, rmsEps: 1e-5, tiedEmbeddings: true,
                                  maxContext: 32)

  override func tearDown() {
    Runtime.productsOverride = nil
    super.tearDown()
  }

  /// Loss and gradients of one forward and backward over [batch, time] (every position
  /// trained) with `products`; the bf16 model's values, in f32 storage when `f32Storage`.
  func run(_ products: SixteenBitProducts, batch: Int, time: Int, microBatches: Int = 1,
           f32Storage: Bool = false) -> (loss: Double, gradients: [ParameterID: [Float]]) {
    Runtime.productsOverride = products
    let bf16 = LlamaParameters.random(config: Self.config, dtype: .bf16, seed: 11, std: 0.3)
    var parameters = bf16
    if f32Storage {
      parameters = LlamaParameters(config: Self.config, dtype: .f32)
      for id in ParameterID.all(for: Self.config) { parameters[id].assign(bf16[id].floats) }
    }
    let model = LlamaModel(parameters: parameters)
    let n = batch * time
    model.forward(tokens: (0..<n).map { Int32(($0 * 13 + 5) % 80) },
                  targets: (0..<n).map { Int32(($0 * 7 + 2) % 80) }, batch: batch, time: time,
                  microBatches: microBatches)
    let collector = GradientCollector()
    let loss = model.backward(updater: collector)
    return (loss.lossSum, collector.gradients)
  }

  /// Largest |a - b| over every gradient, relative to the largest |b| of its tensor.
  func worstRelativeDifference(_ a: [ParameterID: [Float]], _ b: [ParameterID: [Float]]) -> Float {
    b.keys.map { id in
      let x = a[id]!, y = b[id]!
      return zip(x, y).map { abs($0 - $1) }.max()! / max(y.map(abs).max()!, 1e-30)
    }.max()!
  }

  /// With f32 products the only rounding left beside the weights' is the bf16 residual
  /// stream: the gradients are far closer to those of f32 storage of the same values than
  /// with bf16 products, which round every GEMM operand too.
  func testF32ProductsAreCloserToF32StorageOfTheSameWeights() {
    let reference = run(.f32, batch: 4, time: 24, f32Storage: true)
    let widened = run(.f32, batch: 4, time: 24)
    let rounded = run(.bf16, batch: 4, time: 24)
    let widenedError = worstRelativeDifference(widened.gradients, reference.gradients)
    let roundedError = worstRelativeDifference(rounded.gradients, reference.gradients)
    XCTAssertLessThan(widenedError, 2e-2, "f32 products")
    XCTAssertLessThan(roundedError, 2e-1, "bf16 products")
    XCTAssertLessThan(widenedError, roundedError / 2, "f32 \(widenedError), bf16 \(roundedError)")
    XCTAssertEqual(widened.loss, reference.loss, accuracy: 1e-2 * reference.loss)
  }

  /// 16 rows (below `widenedRows`) multiply in bf16 whatever the setting; 96 rows do not.
  func testFewRowsMultiplyInBF16EitherWay() {
    XCTAssertLessThan(2 * 8, LlamaModel.widenedRows)
    XCTAssertEqual(run(.f32, batch: 2, time: 8).gradients, run(.bf16, batch: 2, time: 8).gradients)
    XCTAssertNotEqual(run(.f32, batch: 4, time: 24).gradients, run(.bf16, batch: 4, time: 24).gradients)
  }

  /// Micro-batches of fewer than `widenedRows` rows multiply as their whole step does, so
  /// accumulation gives the whole batch's gradient up to summation order (f32 products: the
  /// tolerance of f32 training).
  func testMicroBatchesMultiplyAsTheirWholeStep() {
    for products in SixteenBitProducts.allCases {
      let whole = run(products, batch: 4, time: 24)
      let parts = run(products, batch: 4, time: 24, microBatches: 4)
      XCTAssertEqual(parts.loss, whole.loss, accuracy: 1e-5 * whole.loss, "\(products)")
      XCTAssertLessThan(worstRelativeDifference(parts.gradients, whole.gradients),
                        products == .f32 ? 1e-4 : 1e-2, "\(products)")
    }
  }
}
