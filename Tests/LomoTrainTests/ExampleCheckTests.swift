import Foundation
import LomoTrain
import XCTest

/// Every token and target of a training example is checked against the vocabulary, and an
/// example with nothing to train on is refused: a `DatasetError` naming file, line and field.
final class ExampleCheckTests: XCTestCase {
  /// The `DatasetError` of training examples built from `lines` (a JSONL file) with the
  /// byte-level stand-in tokenizer and a vocabulary of `vocabulary` ids.
  func error(_ lines: [String], vocabulary: Int = 200) throws -> DatasetError? {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("example-check-\(UUID().uuidString).jsonl")
    try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: url) }
    var builder = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 64,
                                 vocabularySize: vocabulary)
    do {
      _ = try Dataset.load(path: url.path).trainingExamples(&builder)
      return nil
    } catch let e as DatasetError {
      XCTAssertEqual(e.file, url.path)
      return e
    }
  }

  func testALabelBeyondTheVocabularyNamesLineFieldAndEntry() throws {
    let e = try XCTUnwrap(error([
      #"{"input_ids":[1,2,3],"labels":[1,2,3]}"#,
      #"{"input_ids":[1,2,3],"labels":[1,99999999,3]}"#,
    ]))
    XCTAssertEqual(e.line, 2)
    guard case .invalidField(let field, let why) = e.problem else { return XCTFail("\(e)") }
    XCTAssertEqual(field, "labels")
    XCTAssertTrue(why.contains("entry 1 is 99999999"), why)
    XCTAssertTrue(why.contains("0..<200"), why)
  }

  func testAnInputIDBeyondTheVocabularyNamesItsField() throws {
    let e = try XCTUnwrap(error([#"{"input_ids":[1,200],"labels":[1,2]}"#]))
    XCTAssertEqual(e.line, 1)
    guard case .invalidField("input_ids", let why) = e.problem else { return XCTFail("\(e)") }
    XCTAssertTrue(why.contains("entry 1 is 200"), why)
  }

  func testLabelsThatMaskEveryTargetAreRefused() throws {
    // The first label is never a target (labels are shifted), so [5, -100, -100] trains nothing.
    for labels in ["[-100,-100,-100]", "[5,-100,-100]"] {
      let e = try XCTUnwrap(error([
        #"{"input_ids":[5,6,7],"labels":[5,6,7]}"#,
        #"{"input_ids":[5,6,7],"labels":\#(labels)}"#,
      ]), labels)
      XCTAssertEqual(e.line, 2)
      guard case .invalidField("labels", let why) = e.problem else { return XCTFail("\(e)") }
      XCTAssertTrue(why.contains("-100"), why)
    }
    XCTAssertNil(try error([#"{"input_ids":[5,6,7],"labels":[-100,-100,7]}"#]),
                 "one trained target is enough")
  }

  func testATokenizerIDBeyondTheVocabularyBlamesTheTokenizer() throws {
    // The stand-in encodes bytes: "z" is 122, beyond a 100-id vocabulary.
    let e = try XCTUnwrap(error([#"{"prompt":"a","completion":"z"}"#], vocabulary: 100))
    guard case .invalidField("record", let why) = e.problem else { return XCTFail("\(e)") }
    XCTAssertTrue(why.contains("does not match the model"), why)
  }
}
