import Foundation
import LomoModel
@testable import LomoTrain
import LomoTestSupport
import XCTest

/// `MetricsWriter` on a device that refuses every byte: each write throws naming the file, and
/// the device is opened in place, never replaced by a regular file.
final class MetricsWriterTests: XCTestCase {
  func testAFullDeviceThrowsAndStaysADevice() throws {
    var st = stat()
    guard stat("/dev/full", &st) == 0, (st.st_mode & S_IFMT) == S_IFCHR else {
      throw XCTSkip("/dev/full is not a character device here")
    }
    let trainer = try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama()),
                              examples: TinyModel.examples(count: 4), padToken: 0,
                              options: TinyModel.options(steps: 1))
    var steps: [StepMetrics] = []
    try trainer.run { if case .step(let m) = $0 { steps.append(m) } }
    let writer = try MetricsWriter(path: "/dev/full")
    XCTAssertThrowsError(try writer.write(XCTUnwrap(steps.first))) { error in
      XCTAssertEqual("\(error)", "/dev/full: cannot write the metrics file (No space left on device)")
    }
    XCTAssertEqual(stat("/dev/full", &st), 0)
    XCTAssertEqual(st.st_mode & S_IFMT, S_IFCHR, "opening the metrics file replaced /dev/full")
  }

  /// Evaluation lines: the step, the metrics under `eval_` keys (a loss evaluation's score is
  /// minus its loss), and whether it was the best.
  func testEvaluationLinesNameTheirMetrics() throws {
    let loss = MetricsWriter.evaluationLine(PeriodicEvaluation(step: 0, score: -1.25, isBest: true), metrics: nil)
    XCTAssertEqual(loss, #"{"step":0,"eval_loss":1.25,"best":true}"#)
    let cb = EvaluationMetrics(predictions: [0, 1, 2, 2], labels: [0, 1, 1, 2], groups: [nil, nil, nil, nil], task: .cb)
    let line = MetricsWriter.evaluationLine(PeriodicEvaluation(step: 20, score: 0.75, isBest: false), metrics: cb)
    let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    XCTAssertEqual(Set(object.keys), ["step", "eval_accuracy", "eval_macro_f1", "best"])
    XCTAssertEqual(object["eval_accuracy"] as? Double, 0.75)
    XCTAssertEqual(object["best"] as? Bool, false)
  }
}
