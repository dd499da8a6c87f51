import LomoTrain
import XCTest

final class LearningCheckTests: XCTestCase {
  func testAFlatLossIsNamedOnceAtTheCheckStepWithWhatToTry() {
    var options = TrainingOptions(optimizer: .lomo)
    options.learningRate = 1e-3
    options.clipGradNorm = 0
    var check = LearningCheck(options: options, totalSteps: 100, warmupSteps: 0)
    XCTAssertEqual(check.checkStep, LearningCheck.minimumSteps)
    var messages: [String] = []
    for step in 1...30 {
      if let m = check.record(step: step, loss: 2.0 - Float(step) * 0.001) { messages.append("\(step): \(m)") }
    }
    XCTAssertEqual(messages.count, 1, "\(messages)")
    XCTAssertTrue(messages[0].hasPrefix("10: the training loss has barely moved in 10 steps"), messages[0])
    XCTAssertTrue(messages[0].contains("--lr 0.003") && messages[0].contains("--clip-grad-norm 1.0"), messages[0])
  }

  func testALearningRunIsLeftAlone() {
    let options = TrainingOptions(optimizer: .adalomo)
    var check = LearningCheck(options: options, totalSteps: 100, warmupSteps: 20)
    XCTAssertEqual(check.checkStep, 20, "a longer warm-up moves the check")
    for step in 1...30 { XCTAssertNil(check.record(step: step, loss: 3.0 / Float(step))) }
  }

  func testAdaLomoIsNotToldToClipAndShortRunsAreNotChecked() {
    let options = TrainingOptions(optimizer: .adalomo)
    var check = LearningCheck(options: options, totalSteps: 100, warmupSteps: 0)
    let message = (1...10).compactMap { check.record(step: $0, loss: 1) }.first
    XCTAssertNotNil(message)
    XCTAssertFalse(message!.contains("clip"), message!)
    XCTAssertNil(LearningCheck(options: options, totalSteps: 10, warmupSteps: 0).checkStep)
  }
}
