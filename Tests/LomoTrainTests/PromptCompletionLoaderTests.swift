import Foundation
import LomoTrain
import XCTest

final class PromptCompletionLoaderTests: XCTestCase {
  func write(_ text: String) -> String {
    let dir = TinyModel.temporaryDirectory()
    let path = dir.appendingPathComponent("data.jsonl").path
    FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
  }

  func testPretokenisedLinesWithLabelsAndTruncation() throws {
    let path = write("""
      {"input_ids": [1, 2, 3, 4]}

      {"input_ids": [5, 6, 7], "labels": [-100, -100, 7]}
      {"input_ids": [1, 2, 3, 4, 5, 6, 7, 8, 9]}
      """)
    var loader = PromptCompletionLoader(tokenizer: nil, maxSeqLen: 4)
    let examples = try loader.load(path: path)
    XCTAssertEqual(examples.count, 3)
    XCTAssertEqual(examples[0], TokenizedExample(tokens: [1, 2, 3], targets: [2, 3, 4]))
    XCTAssertEqual(examples[1], TokenizedExample(tokens: [5, 6], targets: [-100, 7]))
    XCTAssertEqual(examples[2], TokenizedExample(tokens: [5, 6, 7, 8], targets: [6, 7, 8, 9]))
    XCTAssertEqual(loader.truncated, 1)
  }

  func testBadLinesNameTheFileAndLine() {
    var loader = PromptCompletionLoader(tokenizer: nil, maxSeqLen: 64)
    for (text, fragment) in [("{\"input_ids\": [1, 2]}\n{\"input_ids\": [1, 2], \"extra\": 1}", "\"extra\""),
                             ("{\"input_ids\": [1, 2]}\nnot json", "not a JSON object"),
                             ("{\"input_ids\": [1, 2]}\n{\"input_ids\": [1.5, 2]}", "integers")] {
      let path = write(text)
      XCTAssertThrowsError(try loader.load(path: path)) { error in
        XCTAssertEqual(error as? TrainingError,
                       TrainingError.data(path: path, line: 2, problem: (error as? TrainingError).map {
                         if case .data(_, _, let p) = $0 { return p }; return "" } ?? ""))
        XCTAssertTrue("\(error)".contains(":2: ") && "\(error)".contains(fragment), "\(error)")
      }
    }
  }
}
