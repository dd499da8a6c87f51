import LomoTrain
import XCTest

/// Metrics on cases computed by hand.
final class MetricsTests: XCTestCase {
  func testAccuracy() {
    XCTAssertEqual(Metrics.accuracy(predictions: [0, 1, 1, 0], labels: [0, 1, 0, 0]), 0.75)
    XCTAssertEqual(Metrics.accuracy(predictions: [], labels: []), 0)
  }

  func testMacroF1() {
    // labels      0 0 1 1 2 2
    // predictions 0 1 1 1 2 0
    // class 0: tp 1, fp 1, fn 1 -> F1 2/4 = 0.5
    // class 1: tp 2, fp 1, fn 0 -> F1 4/5 = 0.8
    // class 2: tp 1, fp 0, fn 1 -> F1 2/3
    let f = Metrics.macroF1(predictions: [0, 1, 1, 1, 2, 0], labels: [0, 0, 1, 1, 2, 2])
    XCTAssertEqual(f, (0.5 + 0.8 + 2.0 / 3.0) / 3, accuracy: 1e-12)
    // A class never predicted nor present does not count; one predicted but absent counts 0.
    XCTAssertEqual(Metrics.macroF1(predictions: [0, 0], labels: [0, 0]), 1)
    XCTAssertEqual(Metrics.macroF1(predictions: [0, 2], labels: [0, 0]), (2.0 / 3.0 + 0) / 2, accuracy: 1e-12)
  }

  func testF1aAndExactMatch() {
    // Options of two questions: q1 (3 options), q2 (2 options). Positive = 1 ("Yes").
    let labels = [1, 0, 1, 0, 1]
    let predictions = [1, 1, 1, 0, 0]
    let groups: [String?] = ["q1", "q1", "q1", "q2", "q2"]
    // tp 2, fp 1, fn 1 -> F1a = 4 / 6
    XCTAssertEqual(Metrics.f1(predictions: predictions, labels: labels, positive: 1), 4.0 / 6.0, accuracy: 1e-12)
    XCTAssertEqual(Metrics.exactMatch(predictions: predictions, labels: labels, groups: groups), 0)
    XCTAssertEqual(Metrics.exactMatch(predictions: [1, 0, 1, 0, 0], labels: labels, groups: groups), 0.5)
    XCTAssertEqual(Metrics.f1(predictions: [0, 0], labels: [0, 0], positive: 1), 0)
    let m = EvaluationMetrics(predictions: predictions, labels: labels, groups: groups, task: .multirc)
    XCTAssertEqual(m.accuracy, 0.6, accuracy: 1e-12)
    XCTAssertEqual(m.f1a!, 4.0 / 6.0, accuracy: 1e-12)
    XCTAssertEqual(m.exactMatch, 0)
    XCTAssertNil(m.macroF1)
    XCTAssertNil(EvaluationMetrics(predictions: [0], labels: [0], groups: [nil], task: .rte).f1a)
    XCTAssertNotNil(EvaluationMetrics(predictions: [0], labels: [0], groups: [nil], task: .cb).macroF1)
  }
}
