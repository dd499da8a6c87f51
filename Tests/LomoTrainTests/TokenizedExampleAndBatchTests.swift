import LomoTrain
import XCTest

final class TokenizedExampleAndBatchTests: XCTestCase {
  func testPromptCompletionTrainsOnTheCompletionOnly() {
    let e = TokenizedExample(prompt: [10, 11, 12], completion: [20, 21])
    XCTAssertEqual(e.tokens, [10, 11, 12, 20])
    XCTAssertEqual(e.targets, [-100, -100, 20, 21])
    XCTAssertEqual(e.trainedTokenCount, 2)
  }

  func testBatchPadsOnTheRightWithIgnoredTargets() {
    let b = Batch([TokenizedExample(tokens: [1, 2, 3], targets: [2, 3, 4]),
                   TokenizedExample(tokens: [5], targets: [6])], padToken: 0)
    XCTAssertEqual(b.batch, 2)
    XCTAssertEqual(b.time, 3)
    XCTAssertEqual(b.tokens, [1, 2, 3, 5, 0, 0])
    XCTAssertEqual(b.targets, [2, 3, 4, 6, -100, -100])
    XCTAssertEqual(b.trainedTokenCount, 4)
  }
}
