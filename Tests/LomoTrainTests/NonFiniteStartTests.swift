import Foundation
import LomoModel
import LomoTrain
import LomoTestSupport
import XCTest

/// Training never starts from inf/NaN weights: neither a model nor a checkpoint holding them.
final class NonFiniteStartTests: XCTestCase {
  func poison(_ parameters: LlamaParameters) {
    var values = parameters.layers[0].key.floats
    values[3] = .infinity
    values.withUnsafeBufferPointer { parameters.layers[0].key.assign($0.baseAddress!) }
  }

  func trainer(_ parameters: LlamaParameters) throws -> Trainer {
    try Trainer(model: LlamaModel(parameters: parameters), examples: TinyModel.examples(count: 4),
                padToken: 0, options: TinyModel.options())
  }

  func testAModelWithAnInfiniteWeightIsRefused() throws {
    let parameters = try TestModels.tinyLlama()
    poison(parameters)
    XCTAssertThrowsError(try trainer(parameters)) {
      XCTAssertEqual($0 as? TrainingError,
                     .nonFiniteModel(parameter: "\(ParameterID.layer(0, .key))", index: 3))
    }
  }

  func testACheckpointWithAnInfiniteWeightIsRefused() throws {
    let scratch = try temporaryDirectory("nan-checkpoint")
    let checkpoint = scratch.url.appendingPathComponent("checkpoint")
    let saving = try trainer(try TestModels.tinyLlama())
    poison(saving.model.parameters)
    try saving.saveCheckpoint(to: checkpoint)
    let fresh = try trainer(try TestModels.tinyLlama())
    let before = fresh.model.parameters.storageBits
    XCTAssertThrowsError(try fresh.resume(from: checkpoint)) {
      guard case .checkpoint(let path, let problem)? = $0 as? TrainingError else { return XCTFail("\($0)") }
      XCTAssertEqual(path, checkpoint.appendingPathComponent("tensors.bin").path)
      XCTAssertTrue(problem.contains("is not finite"), problem)
    }
    XCTAssertEqual(fresh.model.parameters.storageBits, before, "the refused checkpoint changed the model")
  }
}
