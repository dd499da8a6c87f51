import Foundation
import LomoCore
import LomoModel
import LomoTrain
import LomoTestSupport
import XCTest

/// Gradient accumulation through the trainer: K micro-batches of B run the steps of batch K·B
/// (same data order, the short last batch of an epoch padded with empty rows), resume exactly,
/// and checkpoints written before the option existed still resume.
final class TrainerAccumulationTests: XCTestCase {
  /// 10 examples in steps of 6: 4 + 6 or 6 + 4 per epoch; the short step is padded to 2 × 3 rows.
  func train(batchSize: Int, microBatches: Int, steps: Int = 5) throws -> Trainer {
    var o = TinyModel.options(.lomo, steps: steps, batchSize: batchSize, lr: 0.2)
    o.gradientAccumulationSteps = microBatches
    o.clipGradNorm = 1
    let model = LlamaModel(parameters: try TestModels.tinyLlama())
    let trainer = try Trainer(model: model, examples: TinyModel.examples(count: 10), padToken: 0, options: o)
    try trainer.run()
    return trainer
  }

  func testMicroBatchesTrainLikeTheWholeBatch() throws {
    let whole = try train(batchSize: 6, microBatches: 1)
    let parts = try train(batchSize: 3, microBatches: 2)
    XCTAssertEqual(parts.batchesPerEpoch, 2)
    XCTAssertEqual(parts.order(ofEpoch: 1), whole.order(ofEpoch: 1), "the same examples per step")
    let start = try TestModels.tinyLlama()
    for ((a, b), s) in zip(zip(parts.model.parameters.all, whole.model.parameters.all), start.all) {
      let (x, y, w) = (a.floatValues(), b.floatValues(), s.floatValues())
      let difference = zip(x, y).map { abs($0 - $1) }.max()!
      let update = zip(y, w).map { abs($0 - $1) }.max()!
      XCTAssertGreaterThan(update, 0, "\(a.id) did not train")
      XCTAssertLessThanOrEqual(difference, 1e-6 * y.map(abs).max()!, "\(a.id)")
      XCTAssertLessThanOrEqual(difference, 1e-3 * update, "\(a.id): update")
    }
  }

  func testAccumulatedRunResumesBitExactly() throws {
    let straight = try train(batchSize: 3, microBatches: 2, steps: 5)
    var o = straight.options
    o.length = .maxSteps(5)
    func fresh() throws -> Trainer {
      try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama()),
                  examples: TinyModel.examples(count: 10), padToken: 0, options: o)
    }
    let checkpoint = try temporaryDirectory("train").url.appendingPathComponent("resume")
    let first = try fresh()
    try first.run(stopAfter: 3)
    try first.saveCheckpoint(to: checkpoint)
    let second = try fresh()
    try second.resume(from: checkpoint)
    try second.run()
    XCTAssertEqual(second.model.parameters.storageBits, straight.model.parameters.storageBits)

    // Another K is another run: refused.
    var other = o
    other.gradientAccumulationSteps = 1
    other.batchSize = 6
    let third = try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama()),
                            examples: TinyModel.examples(count: 10), padToken: 0, options: other)
    XCTAssertThrowsError(try third.resume(from: checkpoint)) { error in
      XCTAssertTrue("\(error)".contains("other training options"), "\(error)")
    }
  }

  /// Options stored by a lomo without the field read as one micro-batch per step.
  func testOptionsWithoutTheFieldAreOneMicroBatch() throws {
    var options = TrainingOptions()
    options.gradientAccumulationSteps = 3
    let encoded = try JSONValue(encoding: options)
    guard case .object(var object) = encoded else { return XCTFail("not an object") }
    object.members.removeAll { $0.key == "gradientAccumulationSteps" }
    let decoded = try JSONField(.object(object)).decode(TrainingOptions.self)
    var expected = options
    expected.gradientAccumulationSteps = 1
    XCTAssertEqual(decoded, expected)
    XCTAssertEqual(try JSONField(encoded).decode(TrainingOptions.self), options)
  }

  func testAZeroOrOverflowingAccumulationIsRefused() {
    var o = TrainingOptions()
    o.gradientAccumulationSteps = 0
    XCTAssertTrue(o.problems.contains { $0.contains("gradient accumulation") }, "\(o.problems)")
    o.gradientAccumulationSteps = Int.max
    o.batchSize = 2
    XCTAssertTrue(o.problems.contains { $0.contains("too large") }, "\(o.problems)")
  }
}
