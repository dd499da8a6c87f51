import Foundation
import LomoCore
import LomoModel
import LomoOptim
import LomoTestSupport
import XCTest

/// The real-model check: SmolLM2-135M-Instruct (default Q4_1 GGUF dequantised to f32),
/// one fixed 512-token batch, 6 LOMO steps at lr 1e-3 without clipping; the loss before every
/// step within 1e-3 relative of PyTorch + lomo-optim on the same weights and tokens
/// (scripts/make_smollm2_lomo_fixture.py). Skipped when the model is not in the cache.
final class SmolLM2LOMOTests: XCTestCase {
  struct Reference: Decodable {
    let steps: Int
    let learningRate: Float
    let tokens: [Int32]
    let targets: [Int32]
    let losses: [Double]
    let finalLoss: Double
  }

  func testSixLOMOStepsMatchLomoOptimWithin1e3Relative() throws {
    let source = try TestModels.defaultSource()
    let reference = try JSONDecoder().decode(Reference.self, from: Data(
      contentsOf: OptimizerFixture.directory.appendingPathComponent("smollm2-lomo.json")))
    let params = try source.loadParameters(dtype: .f32)
    let model = LlamaModel(parameters: params)
    let driver = LomoStep(model: model, optimizer: LOMO())
    let time = reference.tokens.count
    for k in 0..<reference.steps {
      let r = driver.step(tokens: reference.tokens, targets: reference.targets, batch: 1, time: time,
                          learningRate: reference.learningRate)
      XCTAssertEqual(r.tokenCount, time - 1)
      XCTAssertEqual(Double(r.loss), reference.losses[k], accuracy: 1e-3 * reference.losses[k],
                     "loss before step \(k + 1)")
      print("SmolLM2 LOMO step \(k + 1): loss \(r.loss) (lomo-optim \(reference.losses[k]))")
    }
    let final = model.loss(tokens: reference.tokens, targets: reference.targets, batch: 1, time: time)
    XCTAssertEqual(Double(final.meanLoss), reference.finalLoss, accuracy: 1e-3 * reference.finalLoss)
    XCTAssertLessThan(reference.finalLoss, reference.losses[0], "the reference must learn")
  }
}
