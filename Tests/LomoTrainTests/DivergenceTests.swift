import Foundation
import LomoCore
import LomoModel
import LomoOptim
import LomoTrain
import LomoTestSupport
import XCTest

/// A learning rate that diverges stops training with `TrainingError.nonFinite`: no weight is
/// inf or NaN, the weights are bit-identical to those after the last completed step, and a
/// checkpoint saved then resumes (with a lower rate) from exactly there.
final class DivergenceTests: XCTestCase {
  struct Stop {
    let trainer: Trainer
    let step: Int
    let failure: NonFiniteStep
    /// The weights after each completed step, by step number (0: the initial weights).
    let history: [Int: [ParameterID: [UInt32]]]
  }

  /// Runs the tiny model at `lr` until the run throws; fails the test if it never does.
  func diverge(_ options: TrainingOptions, file: StaticString = #filePath, line: UInt = #line) throws -> Stop? {
    var o = options
    o.length = .maxSteps(12)
    let model = LlamaModel(parameters: try TestModels.tinyLlama(dtype: o.dtype))
    let trainer = try Trainer(model: model, examples: TinyModel.examples(count: 8), padToken: 0, options: o)
    var history = [0: model.parameters.storageBits]
    do {
      try trainer.run { event in
        if case .step(let m) = event { history[m.step] = model.parameters.storageBits }
      }
    } catch TrainingError.nonFinite(let step, _, let failure) {
      return Stop(trainer: trainer, step: step, failure: failure, history: history)
    }
    XCTFail("the run did not diverge in 12 steps", file: file, line: line)
    return nil
  }

  func checkStopsAtTheLastGoodStep(_ options: TrainingOptions, file: StaticString = #filePath,
                                   line: UInt = #line) throws {
    guard let stop = try diverge(options, file: file, line: line) else { return }
    let parameters = stop.trainer.model.parameters
    XCTAssertNil(parameters.firstNonFinite(), "a weight became non-finite", file: file, line: line)
    XCTAssertEqual(stop.trainer.step, stop.step - 1, file: file, line: line)
    XCTAssertEqual(stop.failure.appliedCount, 0, "\(stop.failure)", file: file, line: line)
    XCTAssertEqual(parameters.storageBits, stop.history[stop.step - 1],
                   "the weights are not those after step \(stop.step - 1)", file: file, line: line)
  }

  let divergent: Float = 1e30

  func testLOMOf32StopsAtTheLastGoodStep() throws {
    try checkStopsAtTheLastGoodStep(TinyModel.options(.lomo, lr: divergent))
  }

  func testLOMObf16StopsAtTheLastGoodStep() throws {
    try checkStopsAtTheLastGoodStep(TinyModel.options(.lomo, dtype: .bf16, lr: divergent))
  }

  func testLOMOWithTwoPassClippingStopsAtTheLastGoodStep() throws {
    var o = TinyModel.options(.lomo, lr: divergent)
    o.clipGradNorm = 1
    try checkStopsAtTheLastGoodStep(o)
  }

  func testAdaLomoStopsAtTheLastGoodStep() throws {
    try checkStopsAtTheLastGoodStep(TinyModel.options(.adalomo, lr: divergent))
  }

  func testBaselinesStopAtTheLastGoodStep() throws {
    try checkStopsAtTheLastGoodStep(TinyModel.options(.sgd, lr: divergent))
    try checkStopsAtTheLastGoodStep(TinyModel.options(.adamw, lr: divergent))
  }

  func testTheCheckpointOfTheGoodWeightsResumesWithALowerRate() throws {
    let options = TinyModel.options(.lomo, lr: divergent)
    guard let stop = try diverge(options) else { return }
    let scratch = try temporaryDirectory("diverged")
    let checkpoint = scratch.url.appendingPathComponent("checkpoint")
    try stop.trainer.saveCheckpoint(to: checkpoint)

    var lower = options
    lower.learningRate = 0.05
    lower.length = .maxSteps(12)
    let model = LlamaModel(parameters: try TestModels.tinyLlama())
    let resumed = try Trainer(model: model, examples: TinyModel.examples(count: 8), padToken: 0, options: lower)
    try resumed.resume(from: checkpoint)
    XCTAssertEqual(resumed.step, stop.step - 1)
    XCTAssertEqual(model.parameters.storageBits, stop.history[stop.step - 1])
  }
}
