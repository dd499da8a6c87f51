import Foundation
import LomoCore
import LomoModel
import LomoTestSupport
import LomoTrain
import XCTest

/// Mutated checkpoints: every `--resume` either continues (and then trains on, finite) or is
/// refused with a `TrainingError`; a refused resume leaves the model as it was. Seeded and
/// bounded in time.
final class CheckpointFuzzTests: XCTestCase {
  func trainer() throws -> Trainer {
    try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama()),
                examples: TinyModel.examples(count: 10), padToken: 0,
                options: TinyModel.options(.adalomo, steps: 6))
  }

  func testMutatedCheckpointsResumeOrAreRefused() throws {
    let scratch = try temporaryDirectory("checkpoint-fuzz")
    let original = scratch.url.appendingPathComponent("original")
    let first = try trainer()
    try first.run(stopAfter: 4)
    try first.saveCheckpoint(to: original)
    let state = try [UInt8](Data(contentsOf: original.appendingPathComponent("state.json")))
    let tensors = try [UInt8](Data(contentsOf: original.appendingPathComponent("tensors.bin")))
    // Where the numbers of state.json are: the fields a mutation most often should hit.
    let digits = state.indices.filter { (0x30...0x39).contains(state[$0]) || state[$0] == UInt8(ascii: "-") }

    let fresh = try trainer()
    let untouched = fresh.model.parameters.storageBits
    var resumed = 0
    let (rounds, _) = fuzz("checkpoint", seed: 1107, iterations: 400, seconds: 4,
                           accepted: { $0 is TrainingError }) { m, round in
      let folder = scratch.url.appendingPathComponent("case-\(round % 4)")
      try? FileManager.default.removeItem(at: folder)
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      var stateBytes = state, tensorBytes = tensors
      switch m.below(4) {
      case 0, 1: stateBytes = m.mutate(state, region: digits.first!..<(digits.last! + 1))
      case 2: stateBytes = m.mutate(state, region: 0..<state.count)
      default: tensorBytes = m.mutate(tensors, region: 0..<tensors.count)
      }
      try Data(stateBytes).write(to: folder.appendingPathComponent("state.json"))
      try Data(tensorBytes).write(to: folder.appendingPathComponent("tensors.bin"))
      let t = try trainer()
      do {
        try t.resume(from: folder)
      } catch {
        XCTAssertEqual(t.model.parameters.storageBits, untouched, "round \(round): a refused resume changed the model")
        throw error
      }
      // Accepted: the run must go on to its end with finite weights, or stop with a typed error.
      try t.run()
      XCTAssertNil(t.model.parameters.firstNonFinite(), "round \(round)")
      resumed += 1
    }
    XCTAssertGreaterThan(rounds, 40)
    XCTAssertGreaterThan(resumed, 0, "some mutations leave a checkpoint that still resumes")
    XCTAssertEqual(fresh.model.parameters.storageBits, untouched)
  }
}
