import LomoCore
import LomoKernels
import LomoModel
import LomoTestSupport
import XCTest

/// Gradient accumulation at the model: K micro-batches of a batch give the gradient of the
/// whole batch (the mean over all its target tokens, not a mean of per-micro-batch means),
/// handed over once per tensor in the order of one batch, and the same loss.
final class GradientAccumulationTests: XCTestCase {
  static func config(tied: Bool) -> LlamaConfig {
    LlamaConfig(layers: 2, hiddenSize: 24, intermediateSize: 40, heads: 4, kvHeads: 2,
                vocabSize: 50, ropeTheta: 10_000, rmsEps: 1e-5, tiedEmbeddings: tied, maxContext: 16)
  }

  /// 8 sequences of T = 9 with 1 to 8 trained positions each (right padding, one ignored
  /// position in the middle of the longer ones), so the micro-batches' token counts differ.
  static let (batch, time) = (8, 9)
  static let tokens: [Int32] = (0..<batch * time).map { Int32(($0 * 7 + 3) % 50) }
  static let targets: [Int32] = (0..<batch * time).map { i in
    let row = i / time, t = i % time
    let length = [8, 1, 3, 8, 2, 5, 7, 4][row]
    return t >= length || (length > 4 && t == 2) ? -100 : Int32((i * 11 + 1) % 50)
  }

  /// The gradients and the hand-off order of one backward over `microBatches` micro-batches.
  func gradients(tied: Bool, dtype: DType = .f32, microBatches: Int, checkpointing: Bool = false)
    -> (collector: GradientCollector, loss: CrossEntropyResult)
  {
    let params = LlamaParameters.random(config: Self.config(tied: tied), dtype: dtype, seed: 5, std: 0.3)
    let model = LlamaModel(parameters: params, activationCheckpointing: checkpointing)
    model.forward(tokens: Self.tokens, targets: Self.targets, batch: Self.batch, time: Self.time,
                  microBatches: microBatches)
    let collector = GradientCollector()
    let loss = model.backward(updater: collector)
    return (collector, loss)
  }

  func testMicroBatchesGiveTheGradientOfTheWholeBatch() {
    for tied in [false, true] {
      let whole = gradients(tied: tied, microBatches: 1)
      for k in [2, 4, 8] {
        let parts = gradients(tied: tied, microBatches: k)
        XCTAssertEqual(parts.loss.tokenCount, whole.loss.tokenCount)
        XCTAssertEqual(parts.loss.lossSum, whole.loss.lossSum, accuracy: 1e-5 * whole.loss.lossSum)
        XCTAssertEqual(parts.collector.order, whole.collector.order, "tied=\(tied) K=\(k): hand-off order")
        for id in whole.collector.order {
          let a = parts.collector.gradients[id]!, b = whole.collector.gradients[id]!
          let scale = b.map(abs).max()!
          XCTAssertGreaterThan(scale, 0, "\(id)")
          let difference = zip(a, b).map { abs($0 - $1) }.max()!
          // f32 sums of the micro-batches' products in another order: a few roundings.
          XCTAssertLessThanOrEqual(difference, 1e-5 * scale, "tied=\(tied) K=\(k) \(id)")
        }
      }
    }
  }

  /// A mean of the micro-batches' means is a different gradient: the test above can fail.
  func testAMeanOfMeansWouldDiffer() {
    let whole = gradients(tied: false, microBatches: 1).collector.gradients[.layer(0, .down)]!
    var meanOfMeans = [Float](repeating: 0, count: whole.count)
    for k in 0..<4 {
      let rows = (2 * k * Self.time)..<(2 * (k + 1) * Self.time)
      let params = LlamaParameters.random(config: Self.config(tied: false), dtype: .f32, seed: 5, std: 0.3)
      let model = LlamaModel(parameters: params)
      model.forward(tokens: Array(Self.tokens[rows]), targets: Array(Self.targets[rows]), batch: 2, time: Self.time)
      let collector = GradientCollector()
      model.backward(updater: collector)
      for (i, g) in collector.gradients[.layer(0, .down)]!.enumerated() { meanOfMeans[i] += g / 4 }
    }
    let difference = zip(meanOfMeans, whole).map { abs($0 - $1) }.max()!
    XCTAssertGreaterThan(difference, 1e-3 * whole.map(abs).max()!)
  }

  func testBF16MicroBatchesAreDeterministicAndCloseToTheWholeBatch() {
    let first = gradients(tied: true, dtype: .bf16, microBatches: 4)
    let second = gradients(tied: true, dtype: .bf16, microBatches: 4)
    let whole = gradients(tied: true, dtype: .bf16, microBatches: 1)
    for id in whole.collector.order {
      XCTAssertEqual(first.collector.gradients[id], second.collector.gradients[id], "\(id)")
      let a = first.collector.gradients[id]!, b = whole.collector.gradients[id]!
      let difference = zip(a, b).map { abs($0 - $1) }.max()!
      // bf16 operands of the weight-gradient GEMMs round the same values; sums differ in order.
      XCTAssertLessThanOrEqual(difference, 1e-2 * b.map(abs).max()!, "\(id)")
    }
  }

  /// bf16 weights keep the residual stream in bf16 in every mode: the loss of a training
  /// forward (any K) is the loss of the inference forward.
  func testBF16TrainingAndInferenceSeeTheSameResidualStream() {
    let params = LlamaParameters.random(config: Self.config(tied: true), dtype: .bf16, seed: 5, std: 0.3)
    let model = LlamaModel(parameters: params)
    let inference = model.loss(tokens: Self.tokens, targets: Self.targets, batch: Self.batch, time: Self.time)
    for k in [1, 4] {
      model.forward(tokens: Self.tokens, targets: Self.targets, batch: Self.batch, time: Self.time,
                    microBatches: k)
      let training = model.backward(updater: GradientCollector())
      XCTAssertEqual(training.lossSum, inference.lossSum, accuracy: 1e-6 * inference.lossSum, "K=\(k)")
    }
  }

  func testCheckpointingAndMicroBatchesAgree() {
    let plain = gradients(tied: true, microBatches: 2)
    let checkpointed = gradients(tied: true, microBatches: 2, checkpointing: true)
    XCTAssertEqual(plain.collector.gradients, checkpointed.collector.gradients)
  }
}
