import Foundation
import XCTest

@testable import LomoTokenizer

/// A fixture case written by scripts/make_tokenizer_fixtures.py from Hugging Face tokenizers.
struct GoldenCase: Decodable {
  let text: String
  let ids: [Int32]
  let decoded: String
  let decoded_skip: String
}

struct GoldenFile: Decodable { let cases: [GoldenCase] }

func fixtureURL(_ name: String) throws -> URL {
  guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
    throw XCTSkip("fixture \(name) missing; run scripts/make_tokenizer_fixtures.py")
  }
  return url
}

let lomoCache = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/lomo")

/// Checks every case; reports the first mismatching string with both id lists.
func checkGolden(_ tok: Tokenizer, _ cases: [GoldenCase], file: StaticString = #filePath, line: UInt = #line) {
  var mismatches = 0
  for c in cases {
    let ids = tok.encode(c.text)
    if ids != c.ids {
      mismatches += 1
      if mismatches == 1 {
        XCTFail("first id mismatch on \(c.text.debugDescription):\n  swift \(ids)\n  hf    \(c.ids)", file: file, line: line)
      }
      continue
    }
    XCTAssertEqual(tok.decode(c.ids), c.decoded, "decode of \(c.text.debugDescription)", file: file, line: line)
    XCTAssertEqual(tok.decode(c.ids, skipSpecial: true), c.decoded_skip, "decode(skipSpecial) of \(c.text.debugDescription)", file: file, line: line)
    if c.decoded == c.text {
      XCTAssertEqual(tok.decode(tok.encode(c.text)), c.text, "round trip", file: file, line: line)
    }
  }
  XCTAssertEqual(mismatches, 0, "\(mismatches) of \(cases.count) strings tokenised differently", file: file, line: line)
  XCTAssertGreaterThan(cases.count, 0, file: file, line: line)
}

final class TokenizerGoldenTests: XCTestCase {
  struct TinyCases: Decodable {
    let bytelevel: [GoldenCase]
    let spm: [GoldenCase]
  }

  func testTinyByteLevelMatchesHF() throws {
    let tok = try Tokenizer(tokenizerJSON: fixtureURL("tiny_bytelevel.json"))
    XCTAssertEqual(tok.spec.model, .bytePairGPT2)
    XCTAssertEqual(tok.spec.preTokenizer, .smollm)
    let cases = try JSONDecoder().decode(TinyCases.self, from: Data(contentsOf: fixtureURL("tiny_cases.json")))
    checkGolden(tok, cases.bytelevel)
  }

  func testTinySentencePieceMatchesHF() throws {
    let tok = try Tokenizer(tokenizerJSON: fixtureURL("tiny_spm.json"))
    XCTAssertEqual(tok.spec.model, .sentencePieceBPE)
    XCTAssertEqual(tok.spec.spacePrefix, .always)
    let cases = try JSONDecoder().decode(TinyCases.self, from: Data(contentsOf: fixtureURL("tiny_cases.json")))
    checkGolden(tok, cases.spm)
  }

  /// SmolLM2-135M's vocabulary, as tokenizer.json written by the fixture script from the GGUF.
  func testSmolLM2MatchesHF() throws {
    let url = lomoCache.appendingPathComponent("smollm2-135m.tokenizer.json")
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw XCTSkip("\(url.path) absent: run scripts/make_tokenizer_fixtures.py (needs the SmolLM2 GGUF)")
    }
    let tok = try Tokenizer(tokenizerJSON: url)
    XCTAssertEqual(tok.vocabSize, 49152)
    XCTAssertEqual(tok.encode("Hello world"), [19556, 905])
    let g = try JSONDecoder().decode(GoldenFile.self, from: Data(contentsOf: fixtureURL("smollm2_cases.json")))
    checkGolden(tok, g.cases)
  }

  /// Gemma 3's 262k SentencePiece vocabulary, as tokenizer.json written from HF's GGUF conversion.
  func testGemma3MatchesHF() throws {
    let url = lomoCache.appendingPathComponent("gemma-3-270m.tokenizer.json")
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw XCTSkip("\(url.path) absent: run scripts/make_tokenizer_fixtures.py (needs the Gemma 3 GGUF)")
    }
    let tok = try Tokenizer(tokenizerJSON: url)
    XCTAssertEqual(tok.vocabSize, 262144)
    XCTAssertEqual(tok.spec.model, .sentencePieceBPE)
    XCTAssertEqual(tok.encode("Hello world"), [2, 9259, 1902])
    let g = try JSONDecoder().decode(GoldenFile.self, from: Data(contentsOf: fixtureURL("gemma3_cases.json")))
    checkGolden(tok, g.cases)
  }

  /// Not a test: encode throughput on ~1 MB of SuperGLUE text. Runs only with LOMO_BENCH=1.
  func testBenchEncodeSpeed() throws {
    guard ProcessInfo.processInfo.environment["LOMO_BENCH"] == "1" else { throw XCTSkip("set LOMO_BENCH=1 to measure") }
    let corpus = try String(contentsOf: lomoCache.appendingPathComponent("superglue-1mb.txt"), encoding: .utf8)
    for name in ["smollm2-135m", "gemma-3-270m"] {
      let url = lomoCache.appendingPathComponent("\(name).tokenizer.json")
      guard FileManager.default.fileExists(atPath: url.path) else { continue }
      var t0 = Date()
      let tok = try Tokenizer(tokenizerJSON: url)
      let load = Date().timeIntervalSince(t0)
      t0 = Date()
      let ids = tok.encode(corpus)
      let cold = Date().timeIntervalSince(t0)
      t0 = Date()
      _ = tok.encode(corpus)
      let warm = Date().timeIntervalSince(t0)
      let mb = Double(corpus.utf8.count) / 1e6
      print("BENCH \(name): load \(String(format: "%.2f", load)) s; \(String(format: "%.2f", mb)) MB -> \(ids.count) tokens;"
        + " cold \(String(format: "%.3f", cold)) s (\(String(format: "%.2f", mb / cold)) MB/s),"
        + " warm \(String(format: "%.3f", warm)) s (\(String(format: "%.2f", mb / warm)) MB/s)")
    }
  }
}
