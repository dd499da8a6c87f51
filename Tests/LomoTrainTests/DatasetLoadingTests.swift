import LomoTrain
import XCTest

final class DatasetLoadingTests: XCTestCase {
  func load(_ lines: [String], format: DataFormat? = nil, task: SuperGLUETask? = nil) throws -> Dataset {
    try Dataset.load(path: try writeJSONL(lines), format: format, task: task)
  }

  func assertError(_ lines: [String], format: DataFormat? = nil, task: SuperGLUETask? = nil,
                   line: Int?, _ problem: DatasetError.Problem, file: StaticString = #filePath, at: UInt = #line) {
    XCTAssertThrowsError(try load(lines, format: format, task: task), file: file, line: at) { error in
      guard let e = error as? DatasetError else { return XCTFail("not a DatasetError: \(error)", file: file, line: at) }
      XCTAssertEqual(e.line, line, file: file, line: at)
      XCTAssertEqual(e.problem, problem, file: file, line: at)
      XCTAssertTrue(e.description.contains("data.jsonl\(line.map { ":\($0)" } ?? "")"), e.description, file: file, line: at)
    }
  }

  func testFormatDetection() throws {
    XCTAssertEqual(try load([#"{"prompt": "a", "completion": "b"}"#]).format, .promptCompletion)
    XCTAssertEqual(try load([#"{"prompt": "a", "choices": ["x", "y"], "label": 1}"#]).format, .multipleChoice)
    XCTAssertEqual(try load([#"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}"#]).format, .messages)
    XCTAssertEqual(try load([#"{"text": "hello"}"#]).format, .text)
    XCTAssertEqual(try load([#"{"input_ids": [1, 2, 3], "labels": [-100, 2, 3]}"#]).format, .inputIDs)
    let copa = try load([#"{"premise": "P.", "choice1": "a", "choice2": "b", "question": "cause", "label": 0}"#])
    XCTAssertEqual(copa.format, .superglue)
    XCTAssertEqual(copa.task, .copa)
    XCTAssertEqual(try load([#"{"text": "t", "target": {"span1_text": "a", "span2_text": "b"}, "label": false}"#]).task, .wsc)
    XCTAssertEqual(try load([#"{"question": "q", "passage": "p", "label": false}"#]).task, .boolq)
    // --format superglue without --task detects the task.
    XCTAssertEqual(try load([#"{"question": "q", "passage": "p", "label": false}"#], format: .superglue).task, .boolq)
    // An explicit format wins over detection.
    XCTAssertEqual(try load([#"{"text": "hello"}"#], format: .text).records, [.text("hello")])
  }

  func testRecordsOfEachGenericFormat() throws {
    XCTAssertEqual(try load([#"{"prompt": "a", "completion": "b", "id": 3}"#]).records, [.completion(prompt: "a", completion: "b")])
    XCTAssertEqual(try load([#"{"input_ids": [5, 6, 7]}"#]).records, [.tokens(inputIDs: [5, 6, 7], labels: nil)])
    XCTAssertEqual(try load([#"{"prompt": "p", "choices": ["x", "y", "z"], "label": 2}"#]).records,
                   [.choice(ChoiceRecord(prompt: "p", choices: ["x", "y", "z"], label: 2))])
  }

  func testRTEAndCBNeedTask() {
    assertError([#"{"premise": "p", "hypothesis": "h", "label": "entailment"}"#], line: 1, .needsTask("RTE and CB"))
  }

  func testMalformedLinesNameTheirLineNumber() {
    let good = #"{"prompt": "a", "completion": "b"}"#
    // Blank lines count: the bad record is on line 4.
    XCTAssertThrowsError(try load([good, "", good, #"{"prompt": "a", "completion": "#])) { error in
      let e = error as? DatasetError
      XCTAssertEqual(e?.line, 4)
      guard case .malformedJSON = e?.problem else { return XCTFail("\(error)") }
    }
    assertError([good, "[1, 2]"], line: 2, .notAnObject)
    assertError([good, good, #"{"prompt": "a", "completion": "b", "extra": 1}"#], line: 3, .unknownField("extra"))
    assertError([good, #"{"prompt": "a"}"#], line: 2, .missingField("completion"))
    assertError([good, #"{"prompt": 5, "completion": "b"}"#], line: 2, .invalidField("prompt", "expected a string, found a number"))
    assertError([#"{"prompt": "p", "choices": ["x", "y"], "label": 2}"#], line: 1,
                .invalidField("label", "2 is not an index of the 2 choices"))
    assertError([#"{"input_ids": [1, -3]}"#], line: 1, .invalidField("input_ids[1]", "-3 is not a token id"))
    assertError([#"{"premise": "p", "hypothesis": "h", "label": "maybe", "idx": 0}"#], task: .rte, line: 1,
                .invalidField("label", "'maybe' is not one of entailment, not_entailment"))
    assertError([#"{"text": "t", "target": {"span1_text": "a", "span2_text": "b", "span3": 1}, "label": true}"#],
                line: 1, .unknownField("target.span3"))
    assertError([#"{"messages": [{"role": "robot", "content": "x"}]}"#], line: 1,
                .invalidField("messages[0].role", "'robot' is not system, user or assistant"))
    assertError([#"{"whatever": 1}"#], line: 1,
                .undetectedFormat("cannot tell the format from the fields {whatever}; pass --format (superglue, prompt-completion, choices, messages, text, input-ids)"))
    assertError([], line: nil, .empty)
    // A record of another format after the first is an unknown field of the first's format.
    assertError([good, #"{"text": "x"}"#], line: 2, .unknownField("text"))
  }

  func testInvalidUTF8AndMissingFile() throws {
    let path = try writeJSONL([])
    try Data([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try Dataset.load(path: path)) { error in
      guard case .malformedJSON = (error as? DatasetError)?.problem else { return XCTFail("\(error)") }
      XCTAssertEqual((error as? DatasetError)?.line, 1)
    }
    XCTAssertThrowsError(try Dataset.load(path: "/nonexistent/x.jsonl")) { error in
      guard case .unreadable = (error as? DatasetError)?.problem else { return XCTFail("\(error)") }
    }
  }

  func testLongLineIsRefused() throws {
    let path = try writeJSONL([#"{"text": "\#(String(repeating: "a", count: 5000))"}"#])
    XCTAssertThrowsError(try JSONLReader(path: path, maxLineBytes: 1000).forEachObject { _, _ in }) { error in
      XCTAssertEqual(error as? DatasetError, DatasetError(file: path, line: 1, .lineTooLong(1000)))
    }
  }

  func testCRLFAndNoTrailingNewline() throws {
    let path = try writeJSONL([])
    try Data("{\"text\": \"a\"}\r\n\r\n{\"text\": \"b\"}".utf8).write(to: URL(fileURLWithPath: path))
    let d = try Dataset.load(path: path)
    XCTAssertEqual(d.records, [.text("a"), .text("b")])
    XCTAssertEqual(d.lines, [1, 3])
  }

  func testSamplingIsSeededAndDeterministic() throws {
    let lines = (0..<50).map { #"{"text": "\#($0)"}"# }
    let d = try load(lines)
    let a = d.sampled(10, seed: 0), b = d.sampled(10, seed: 0), c = d.sampled(10, seed: 1)
    XCTAssertEqual(a.records.count, 10)
    XCTAssertEqual(a.records, b.records)
    XCTAssertNotEqual(a.records, c.records)
    XCTAssertEqual(a.lines, a.lines.sorted(), "the sample keeps file order")
    XCTAssertEqual(Set(a.lines).count, 10)
    XCTAssertEqual(d.sampled(100, seed: 0).records.count, 50)
    XCTAssertEqual(d.sampled(nil, seed: 0).records.count, 50)
  }
}
