import Foundation
import LomoTestSupport
import LomoTokenizer
import XCTest

/// Errors of the file-level tokenizer loaders name the file the problem is in: tokenizer.json,
/// tokenizer_config.json (never blamed on tokenizer.json) or the GGUF.
final class TokenizerFileErrorTests: XCTestCase {
  var scratch: TemporaryDirectory!

  override func setUpWithError() throws { scratch = try temporaryDirectory("tokenizer") }
  override func tearDownWithError() throws { scratch = nil }

  func load(json: [UInt8], config: [UInt8]?) throws -> Tokenizer {
    let jsonPath = try scratch.write(json, "tokenizer.json")
    let configPath = try config.map { try scratch.write($0, "tokenizer_config.json") }
    return try Tokenizer(tokenizerJSON: URL(fileURLWithPath: jsonPath), config: configPath.map(URL.init(fileURLWithPath:)))
  }

  func assertBlames(_ file: String, json: [UInt8], config: [UInt8]?, _ label: String) {
    XCTAssertThrowsError(try load(json: json, config: config), label) { e in
      guard let error = e as? TokenizerFileError else { return XCTFail("\(label): \(e)") }
      XCTAssertEqual(error.path, self.scratch(file), "\(label): \(error)")
      XCTAssertTrue("\(error)".hasPrefix(self.scratch(file) + ": "), "\(label): \(error)")
    }
  }

  func testEachFileIsNamed() throws {
    let good = Array(try Data(contentsOf: fixtureURL("tiny_bytelevel.json")))
    XCTAssertNoThrow(try load(json: good, config: Array(#"{"add_bos_token": false}"#.utf8)))
    assertBlames("tokenizer.json", json: Array(#"{"model": "#.utf8), config: nil, "broken tokenizer.json")
    assertBlames("tokenizer_config.json", json: good, config: Array(#"{"bos_token": "#.utf8), "broken config syntax")
    assertBlames("tokenizer_config.json", json: good, config: Array(#"{"bos_token": 7}"#.utf8), "config field type")
    assertBlames("tokenizer_config.json", json: good, config: Array(#"{"eos_token": "<nowhere>"}"#.utf8), "config token")
    assertBlames("tokenizer.json", json: Array(#"{"model": {"vocab": {"a": 1e400}}}"#.utf8), config: nil, "huge id")
  }
}
