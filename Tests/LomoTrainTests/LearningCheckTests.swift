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

  /// A run of at most `minimumSteps` steps is named with the length that reaches the check.
  func testAShortRunIsNamedWithTheLengthThatWouldReachTheCheck() throws {
    var options = TrainingOptions()
    options.length = .epochs(1)
    let fourPerEpoch = LearningCheck(options: options, totalSteps: 4, warmupSteps: 0)
    XCTAssertNil(fourPerEpoch.checkStep)
    let note = try XCTUnwrap(fourPerEpoch.shortRunNote)
    XCTAssertTrue(note.contains("only 4 optimizer steps") && note.contains("--epochs 3"), note)
    options.length = .epochs(2)
    XCTAssertTrue(try XCTUnwrap(LearningCheck(options: options, totalSteps: 8, warmupSteps: 0).shortRunNote)
      .contains("--epochs 3"))
    options.length = .maxSteps(5)
    XCTAssertTrue(try XCTUnwrap(LearningCheck(options: options, totalSteps: 5, warmupSteps: 0).shortRunNote)
      .contains("--max-steps 11"))
    XCTAssertNil(LearningCheck(options: options, totalSteps: 40, warmupSteps: 0).shortRunNote, "a checked run")
  }
}
