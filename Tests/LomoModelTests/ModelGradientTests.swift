import LomoCore
import LomoModel
import LomoTestSupport
import XCTest

/// Model-level checks of the hand-sequenced backward on a tiny random LLaMA: gradients against
/// finite differences of the loss, the once-per-parameter hand-off, and activation
/// checkpointing changing no number.
final class ModelGradientTests: XCTestCase {
  static func tinyConfig(tied: Bool) -> LlamaConfig {
    LlamaConfig(layers: 2, hiddenSize: 24, intermediateSize: 40, heads: 4, kvHeads: 2,
                vocabSize: 50, ropeTheta: 10_000, rmsEps: 1e-5, tiedEmbeddings: tied, maxContext: 16)
  }

  let (batch, time) = (2, 5)
  var tokens: [Int32] { (0..<batch * time).map { Int32(($0 * 7 + 3) % 50) } }
  /// Next-token targets with one ignored position per sequence.
  var targets: [Int32] { (0..<batch * time).map { $0 % time == 0 ? -100 : Int32(($0 * 11 + 1) % 50) } }

  func testBackwardMatchesFiniteDifferencesOfTheLoss() {
    for tied in [true, false] {
      let params = LlamaParameters.random(config: Self.tinyConfig(tied: tied), dtype: .f32, seed: 1, std: 0.3)
      let model = LlamaModel(parameters: params)
      model.forward(tokens: tokens, targets: targets, batch: batch, time: time)
      let collector = GradientCollector()
      model.backward(updater: collector)

      for tensor in params.all {
        guard case .f32(let storage) = tensor.storage else { return XCTFail("f32 expected") }
        let grad = try! XCTUnwrap(collector.gradients[tensor.id])
        // A few entries per tensor, including the largest-gradient one.
        let largest = grad.indices.max { abs(grad[$0]) < abs(grad[$1]) }!
        for i in [0, tensor.count / 2, tensor.count - 1, largest] {
          let saved = storage[i]
          let h: Float = 5e-3  // truncation error O(h²); f32 round-off of the loss sum stays below 1e-4
          storage[i] = saved + h
          let plus = model.loss(tokens: tokens, targets: targets, batch: batch, time: time).lossSum
          storage[i] = saved - h
          let minus = model.loss(tokens: tokens, targets: targets, batch: batch, time: time).lossSum
          storage[i] = saved
          let count = Double(targets.filter { $0 >= 0 }.count)
          let numeric = (plus - minus) / (2 * Double(h)) / count
          XCTAssertEqual(Double(grad[i]), numeric, accuracy: 2e-3 * max(1, abs(numeric)) + 3e-4,
                         "tied=\(tied) \(tensor.id)[\(i)]")
        }
      }
    }
  }

  func testEveryParameterIsHandedOffExactlyOnce() {
    let params = LlamaParameters.random(config: Self.tinyConfig(tied: true), dtype: .f32, seed: 2)
    let model = LlamaModel(parameters: params)
    model.forward(tokens: tokens, targets: targets, batch: batch, time: time)
    let collector = GradientCollector()
    model.backward(updater: collector)
    XCTAssertEqual(Set(collector.calls.keys), Set(ParameterID.all(for: params.config)))
    XCTAssertTrue(collector.calls.values.allSatisfy { $0 == 1 })
  }

  func testActivationCheckpointingChangesNoNumber() {
    let params = LlamaParameters.random(config: Self.tinyConfig(tied: true), dtype: .f32, seed: 3, std: 0.3)
    var results: [[ParameterID: [Float]]] = []
    var losses: [Double] = []
    for checkpointing in [false, true] {
      let model = LlamaModel(parameters: params, activationCheckpointing: checkpointing)
      model.forward(tokens: tokens, targets: targets, batch: batch, time: time)
      let collector = GradientCollector()
      losses.append(model.backward(updater: collector).lossSum)
      results.append(collector.gradients)
    }
    XCTAssertEqual(losses[0], losses[1])
    XCTAssertEqual(results[0], results[1])
  }

  func testLossOfForwardEqualsLossReturnedByBackward() {
    let params = LlamaParameters.random(config: Self.tinyConfig(tied: false), dtype: .f32, seed: 4)
    let model = LlamaModel(parameters: params)
    let evalLoss = model.loss(tokens: tokens, targets: targets, batch: batch, time: time)
    model.forward(tokens: tokens, targets: targets, batch: batch, time: time)
    let trainLoss = model.backward(updater: GradientCollector())
    XCTAssertEqual(evalLoss.tokenCount, 8)
    XCTAssertEqual(evalLoss.lossSum, trainLoss.lossSum, accuracy: 1e-9 * abs(evalLoss.lossSum))
    // A random model over 50 tokens is near uniform: loss ≈ ln 50.
    XCTAssertEqual(Double(evalLoss.meanLoss), 3.912, accuracy: 0.3)
  }
}
