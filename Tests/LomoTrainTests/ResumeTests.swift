import Foundation
import LomoCore
import LomoModel
import LomoTrain
import LomoTestSupport
import XCTest

/// N steps uninterrupted == k steps, checkpoint, a fresh model and trainer resumed from it,
/// N - k steps: bit-identical parameters.
final class ResumeTests: XCTestCase {
  func checkResumeIsExact(_ options: TrainingOptions, total: Int = 7, split: Int = 4,
                          file: StaticString = #filePath, line: UInt = #line) throws {
    var o = options
    o.length = .maxSteps(total)
    let examples = TinyModel.examples(count: 10)  // 3 batches per epoch: the split crosses an epoch
    func fresh() throws -> Trainer {
      let model = LlamaModel(parameters: try TestModels.tinyLlama(dtype: o.dtype))
      return try Trainer(model: model, examples: examples, padToken: 0, options: o)
    }
    let straight = try fresh()
    try straight.run()
    XCTAssertEqual(straight.step, total, file: file, line: line)

    let scratch = try temporaryDirectory("train")
    let dir = scratch.url
    let checkpoint = dir.appendingPathComponent("resume")
    let first = try fresh()
    let partial = try first.run(stopAfter: split)
    XCTAssertTrue(partial.interrupted, file: file, line: line)
    try first.saveCheckpoint(to: checkpoint)

    let second = try fresh()
    let initial = second.model.parameters.storageBits
    try second.resume(from: checkpoint)
    XCTAssertEqual(second.step, split, file: file, line: line)
    XCTAssertEqual(second.model.parameters.storageBits, first.model.parameters.storageBits,
                   file: file, line: line)
    try second.run()
    XCTAssertEqual(second.step, total, file: file, line: line)

    let expected = straight.model.parameters.storageBits
    XCTAssertNotEqual(expected, initial, "training changed nothing", file: file, line: line)
    XCTAssertEqual(second.model.parameters.storageBits, expected, file: file, line: line)
    // And the interrupted trainer itself, continued in place, agrees too.
    try first.run()
    XCTAssertEqual(first.model.parameters.storageBits, expected, file: file, line: line)
  }

  func testLOMOf32ResumesBitExactly() throws {
    var o = TinyModel.options(.lomo)
    o.clipGradNorm = 1
    try checkResumeIsExact(o)
  }

  func testLOMObf16WithStochasticRoundingResumesBitExactly() throws {
    try checkResumeIsExact(TinyModel.options(.lomo, dtype: .bf16))
  }

  func testAdaLomoResumesBitExactly() throws {
    try checkResumeIsExact(TinyModel.options(.adalomo, lr: 1e-2))
  }

  func testAdamWResumesBitExactly() throws {
    try checkResumeIsExact(TinyModel.options(.adamw, lr: 1e-3))
  }

  func testLOMOf16WithDynamicLossScalingResumesBitExactly() throws {
    var o = TinyModel.options(.lomo, dtype: .f16, lr: 0.02)
    o.lossScale.window = 2  // the scale grows across the split
    try checkResumeIsExact(o)
  }

  func testCheckpointIsNeverOverwrittenWithoutTheFlag() throws {
    let scratch = try temporaryDirectory("train")
    let dir = scratch.url
    let checkpoint = dir.appendingPathComponent("resume")
    let model = LlamaModel(parameters: try TestModels.tinyLlama())
    let trainer = try Trainer(model: model, examples: TinyModel.examples(count: 10), padToken: 0,
                              options: TinyModel.options(steps: 4))
    try trainer.run(stopAfter: 1)
    try trainer.saveCheckpoint(to: checkpoint)
    try trainer.run(stopAfter: 2)
    XCTAssertThrowsError(try trainer.saveCheckpoint(to: checkpoint)) { error in
      XCTAssertTrue("\(error)".contains("--overwrite"), "\(error)")
    }
    XCTAssertEqual(try ResumeCheckpoint.loadState(from: checkpoint).step, 1)
    try trainer.saveCheckpoint(to: checkpoint, overwrite: true)
    XCTAssertEqual(try ResumeCheckpoint.loadState(from: checkpoint).step, 2)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
    XCTAssertEqual(leftovers, ["resume"], "no temporary directory left behind")
  }

  func testResumeRefusesOtherDataOrOptions() throws {
    let scratch = try temporaryDirectory("train")
    let dir = scratch.url
    let checkpoint = dir.appendingPathComponent("resume")
    let trainer = try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama()),
                              examples: TinyModel.examples(count: 10), padToken: 0,
                              options: TinyModel.options(steps: 4))
    try trainer.run(stopAfter: 1)
    try trainer.saveCheckpoint(to: checkpoint)
    let otherData = try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama()),
                                examples: TinyModel.examples(count: 10, seed: 99), padToken: 0,
                                options: TinyModel.options(steps: 4))
    XCTAssertThrowsError(try otherData.resume(from: checkpoint))
    var other = TinyModel.options(steps: 4, batchSize: 2)
    other.seed = 5
    let otherOptions = try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama()),
                                   examples: TinyModel.examples(count: 10), padToken: 0, options: other)
    XCTAssertThrowsError(try otherOptions.resume(from: checkpoint)) {
      XCTAssertTrue("\($0)".contains("other training options: --batch-size 2 (the checkpoint's: 4), --seed 5 (the checkpoint's: 11)"), "\($0)")
    }
  }

  /// A run may be made longer on resume (its schedule then spans the new length), never
  /// shorter than the checkpoint's step.
  func testResumeExtendsTheRunButNotBeforeItsStep() throws {
    let scratch = try temporaryDirectory("train")
    let checkpoint = scratch.url.appendingPathComponent("resume")
    let trainer = try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama()),
                              examples: TinyModel.examples(count: 10), padToken: 0,
                              options: TinyModel.options(steps: 4))
    try trainer.run(stopAfter: 3)
    try trainer.saveCheckpoint(to: checkpoint)
    let longer = try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama()),
                             examples: TinyModel.examples(count: 10), padToken: 0,
                             options: TinyModel.options(steps: 7))
    try longer.resume(from: checkpoint)
    XCTAssertEqual(longer.step, 3)
    let summary = try longer.run()
    XCTAssertEqual(summary.steps, 7)
    let shorter = try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama()),
                              examples: TinyModel.examples(count: 10), padToken: 0,
                              options: TinyModel.options(steps: 2))
    XCTAssertThrowsError(try shorter.resume(from: checkpoint)) {
      XCTAssertTrue("\($0)".contains("it is at step 3, past this run's 2 steps; give a larger --max-steps or --epochs"), "\($0)")
    }
  }
}
