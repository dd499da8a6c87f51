import Foundation
import LomoModel
import LomoTrain
import LomoTestSupport
import XCTest

/// A model holding inf or NaN is never saved: `TrainingOutput.save` refuses it before it
/// writes or replaces anything.
final class NonFiniteSaveTests: XCTestCase {
  func testANaNModelReplacesNothing() throws {
    let scratch = try temporaryDirectory("nan-save")
    let parameters = try TestModels.tinyLlama()
    for format in TrainingOutput.Format.allCases {
      let output = TrainingOutput(directory: scratch.url.appendingPathComponent(format.rawValue),
                                  format: format, source: nil)
      try output.save(parameters, to: output.final, overwrite: false)
      let saved = TemporaryDirectory.contents(of: output.final.path)
      XCTAssertFalse(saved.isEmpty)

      var values = parameters.layers[1].down.floats
      values[7] = .nan
      values.withUnsafeBufferPointer { parameters.layers[1].down.assign($0.baseAddress!) }
      XCTAssertThrowsError(try output.save(parameters, to: output.final, overwrite: true)) {
        XCTAssertEqual($0 as? TrainingError, .nonFiniteWeights(
          path: output.final.path, parameter: "\(ParameterID.layer(1, .down))", index: 7))
      }
      XCTAssertEqual(TemporaryDirectory.contents(of: output.final.path), saved, "\(format)")
      XCTAssertEqual(TemporaryDirectory.contents(of: output.directory.path), ["final"], "\(format)")
      // Restore for the next format.
      values[7] = 0
      values.withUnsafeBufferPointer { parameters.layers[1].down.assign($0.baseAddress!) }
    }
  }
}
