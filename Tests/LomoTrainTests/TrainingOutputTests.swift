import Foundation
import LomoCore
import LomoFormats
import LomoModel
import LomoTrain
import LomoTestSupport
import XCTest

/// `lomo train`'s saved models: a short run on the tiny LLaMA, saved through `TrainingOutput`
/// (the CLI's code path), loads back with exactly the trainer's in-memory parameters.
final class TrainingOutputTests: XCTestCase {
  func train(dtype: DType) throws -> Trainer {
    let model = LlamaModel(parameters: try TestModels.tinyLlama(dtype: dtype))
    let trainer = try Trainer(model: model, examples: TinyModel.examples(count: 12), padToken: 0,
                              options: TinyModel.options(dtype: dtype, steps: 3))
    try trainer.run()
    return trainer
  }

  func assertSameParameters(_ reloaded: LlamaParameters, _ trained: LlamaParameters,
                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(reloaded.config, trained.config, file: file, line: line)
    XCTAssertEqual(reloaded.dtype, trained.dtype, file: file, line: line)
    for id in ParameterID.all(for: trained.config) {
      XCTAssertEqual(reloaded[id].floats, trained[id].floats, "\(id)", file: file, line: line)
    }
  }

  func testShortTrainSavesLoadableSafetensorsAndGGUFEqualToTheTrainedParameters() throws {
    let source = ModelSource.huggingFace(TestModels.tinyLlamaDirectory)
    for dtype in [DType.f32, .bf16] {
      let trainer = try train(dtype: dtype)
      let trained = trainer.model.parameters
      XCTAssertNotEqual(trained[.embedding].floats, try TestModels.tinyLlama(dtype: dtype)[.embedding].floats,
                        "training changed nothing")
      let scratch = try temporaryDirectory("train")
      let dir = scratch.url

      let hf = TrainingOutput(directory: dir.appendingPathComponent("hf"), format: .safetensors, source: source)
      try hf.save(trained, to: hf.final, overwrite: false)
      XCTAssertEqual(hf.loadablePath(hf.final), dir.appendingPathComponent("hf/final").path)
      assertSameParameters(try ModelSource.huggingFace(hf.loadablePath(hf.final)).loadParameters(dtype: dtype), trained)
      let card = try String(contentsOfFile: hf.final.appendingPathComponent("README.md").path, encoding: .utf8)
      XCTAssertTrue(card.hasPrefix("---\nbase_model: \"\((TestModels.tinyLlamaDirectory as NSString).lastPathComponent)\"\n"), card)
      XCTAssertTrue(card.contains("\n# hf\n"), "the fine-tune is named after its output folder: \(card)")

      let gguf = TrainingOutput(directory: dir.appendingPathComponent("gguf"), format: .gguf, source: source)
      let summary = try gguf.save(trained, to: gguf.final, overwrite: false)
      let path = gguf.loadablePath(gguf.final)
      XCTAssertEqual(summary.files, [path])
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: gguf.final.path), ["model.gguf"])
      let file = try GGUFFile(path: path)
      let expected: GGMLType = dtype == .f32 ? .f32 : .bf16
      XCTAssertTrue(file.tensors.filter { $0.shape.count == 2 }.allSatisfy { $0.type == expected }, "\(dtype)")
      assertSameParameters(try ModelSource.gguf(path).loadParameters(dtype: dtype), trained)

      // An existing model is replaced only with overwrite.
      XCTAssertThrowsError(try gguf.save(trained, to: gguf.final, overwrite: false))
      XCTAssertThrowsError(try hf.save(trained, to: hf.final, overwrite: false))
      try gguf.save(trained, to: gguf.final, overwrite: true)
      assertSameParameters(try ModelSource.gguf(path).loadParameters(dtype: dtype), trained)
    }
  }

  /// Periodic checkpoints kept three at a time: the newest in checkpoint/, the two before it
  /// as checkpoint-STEP, older ones removed; each still resumes at its step.
  func testRotationKeepsTheNewestCheckpoints() throws {
    let scratch = try temporaryDirectory("rotate")
    let output = TrainingOutput(directory: scratch.url, format: .gguf, source: nil)
    let trainer = try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama()),
                              examples: TinyModel.examples(count: 8), padToken: 0, options: TinyModel.options(steps: 5))
    for step in 1...5 {
      try trainer.run(stopAfter: step)
      try output.rotateCheckpoints(keeping: 3)
      try trainer.saveCheckpoint(to: output.checkpoint, overwrite: true)
    }
    XCTAssertEqual(output.keptCheckpointSteps(), [3, 4])
    XCTAssertEqual(try ResumeCheckpoint.loadState(from: output.checkpoint).step, 5)
    XCTAssertEqual(try ResumeCheckpoint.loadState(from: output.checkpoint(ofStep: 3)).step, 3)
    try output.rotateCheckpoints(keeping: 1)
    XCTAssertEqual(output.keptCheckpointSteps(), [3, 4], "one kept: nothing is renamed")
    XCTAssertTrue(FileManager.default.fileExists(atPath: output.checkpoint.path))
  }

  func testLayoutAndDefaults() {
    let o = TrainingOutput(directory: URL(fileURLWithPath: "/x/out"), format: .gguf, source: nil)
    XCTAssertEqual([o.final.path, o.best.path, o.checkpoint.path], ["/x/out/final", "/x/out/best", "/x/out/checkpoint"])
    XCTAssertEqual(o.loadablePath(o.best), "/x/out/best/model.gguf")
    XCTAssertEqual(TrainingOutput.Format.matching(.gguf("m.gguf")), .gguf)
    XCTAssertEqual(TrainingOutput.Format.matching(.huggingFace("m")), .safetensors)
    XCTAssertEqual(TrainingOutput.ggufType(.f32), .f32)
    XCTAssertEqual(TrainingOutput.ggufType(.bf16), .bf16)
    XCTAssertEqual(TrainingOutput.ggufType(.f16), .f16)
  }
}
