import Foundation
import LomoFormats
import LomoModel
import LomoTestSupport
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

let gemmaGGUF = "gemma-3-270m-q4_k_m.gguf"

/// Exact equality: `String ==` would accept a canonically equivalent spelling.
func assertSameScalars(_ a: String, _ b: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertEqual(Array(a.unicodeScalars), Array(b.unicodeScalars), message, file: file, line: line)
}

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
    assertSameScalars(tok.decode(c.ids), c.decoded, "decode of \(c.text.debugDescription)", file: file, line: line)
    assertSameScalars(
      tok.decode(c.ids, skipSpecial: true), c.decoded_skip, "decode(skipSpecial) of \(c.text.debugDescription)",
      file: file, line: line)
    if c.decoded.unicodeScalars.elementsEqual(c.text.unicodeScalars) {
      assertSameScalars(tok.decode(tok.encode(c.text)), c.text, "round trip", file: file, line: line)
    }
  }
  XCTAssertEqual(mismatches, 0, "\(mismatches) of \(cases.count) strings tokenised differently", file: file, line: line)
  XCTAssertGreaterThan(cases.count, 0, file: file, line: line)
}

final class TokenizerGoldenTests: XCTestCase {
  struct TinyCases: Decodable {
    let bytelevel: [GoldenCase]
    let spm: [GoldenCase]
    let qwen2: [GoldenCase]
  }

  /// The small tokenizer.json files trained by the fixture script exercise the JSON loader.
  func tiny(_ file: String, _ cases: KeyPath<TinyCases, [GoldenCase]>) throws -> (Tokenizer, [GoldenCase]) {
    let tok = try Tokenizer(tokenizerJSON: fixtureURL(file))
    let all = try JSONDecoder().decode(TinyCases.self, from: Data(contentsOf: fixtureURL("tiny_cases.json")))
    return (tok, all[keyPath: cases])
  }

  func testTinyByteLevelMatchesHF() throws {
    let (tok, cases) = try tiny("tiny_bytelevel.json", \.bytelevel)
    XCTAssertEqual(tok.spec.model, .bytePairGPT2)
    XCTAssertEqual(tok.spec.preTokenizer, .smollm)
    checkGolden(tok, cases)
  }

  /// Qwen2/2.5's layout: NFC, its Split regex (each digit alone), byte-level BPE.
  func testTinyQwen2LayoutMatchesHF() throws {
    let (tok, cases) = try tiny("tiny_qwen2.json", \.qwen2)
    XCTAssertEqual(tok.spec.model, .bytePairGPT2)
    XCTAssertEqual(tok.spec.preTokenizer, .qwen2)
    checkGolden(tok, cases)
  }

  func testTinySentencePieceMatchesHF() throws {
    let (tok, cases) = try tiny("tiny_spm.json", \.spm)
    XCTAssertEqual(tok.spec.model, .sentencePieceBPE)
    XCTAssertEqual(tok.spec.spacePrefix, .always)
    checkGolden(tok, cases)
  }

  /// SmolLM2-135M's vocabulary from its GGUF (fetched by scripts/fetch-default-model.sh).
  func testSmolLM2FromGGUFMatchesHF() throws {
    let tok = try Tokenizer(gguf: GGUFFile(path: TestModels.cachedFile(ModelSource.defaultFile, fetchedBy: "fetch-default-model.sh")))
    XCTAssertEqual(tok.vocabSize, 49152)
    XCTAssertEqual(tok.spec.model, .bytePairGPT2)
    XCTAssertEqual(tok.spec.preTokenizer, .smollm)
    XCTAssertEqual(tok.encode("Hello world"), [19556, 905])
    let g = try JSONDecoder().decode(GoldenFile.self, from: Data(contentsOf: fixtureURL("smollm2_cases.json")))
    checkGolden(tok, g.cases)
  }

  /// Special tokens written in the text, and the chat template the GGUF carries.
  func testSmolLM2SpecialTokensAndChat() throws {
    let tok = try Tokenizer(gguf: GGUFFile(path: TestModels.cachedFile(ModelSource.defaultFile, fetchedBy: "fetch-default-model.sh")))
    let start = try XCTUnwrap(tok.id(for: "<|im_start|>"))
    let end = try XCTUnwrap(tok.id(for: "<|im_end|>"))
    XCTAssertTrue(tok.isSpecial(start) && tok.isSpecial(end))
    let ids = tok.encode("<|im_start|>user\nHi<|im_end|>")
    XCTAssertEqual(ids.first, start)
    XCTAssertEqual(ids.last, end)
    XCTAssertEqual(ids.filter { $0 == start || $0 == end }.count, 2)
    // Not parsed: the markers are spelled out in ordinary tokens.
    let plain = tok.encode("<|im_start|>user", parseSpecial: false)
    XCTAssertFalse(plain.contains(start))
    XCTAssertEqual(tok.decode(plain), "<|im_start|>user")
    XCTAssertEqual(tok.decode(ids, skipSpecial: true), "user\nHi")

    let chat = try XCTUnwrap(tok.chatTemplate(ggufPath: ModelSource.defaultFile)).get()
    XCTAssertEqual(chat.endOfTurn, tok.eosToken == "<|im_end|>" ? nil : "<|im_end|>")
    let text = try chat.render([ChatMessage(role: "user", content: "Hello!")], addGenerationPrompt: true)
    XCTAssertTrue(text.hasPrefix("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"))
    let chatIDs = tok.encode(text, addSpecial: false)
    XCTAssertEqual(chatIDs.filter { $0 == start }.count, 3)  // system, user, assistant
    XCTAssertEqual(chatIDs.filter { $0 == end }.count, 2)
    XCTAssertEqual(tok.decode(chatIDs), text)
  }

  /// Gemma 3's 262k SentencePiece vocabulary from its GGUF (scripts/fetch-gemma-vocab.sh). It holds
  /// canonically equivalent tokens (";" and U+037E, ...) and tokens starting with U+FEFF.
  func testGemma3FromGGUFMatchesHF() throws {
    let tok = try Tokenizer(gguf: GGUFFile(path: TestModels.cachedFile(gemmaGGUF, fetchedBy: "fetch-gemma-vocab.sh")))
    XCTAssertEqual(tok.vocabSize, 262144)
    XCTAssertEqual(tok.spec.model, .sentencePieceBPE)
    XCTAssertEqual(tok.encode("Hello world"), [2, 9259, 1902])
    // Distinct ids for canonically equivalent spellings.
    let semicolon = try XCTUnwrap(tok.id(for: ";"))
    let greekQuestion = try XCTUnwrap(tok.id(for: "\u{037E}"))
    XCTAssertNotEqual(semicolon, greekQuestion)
    XCTAssertEqual(tok.encode(";\u{037E}", addSpecial: false), [semicolon, greekQuestion])
    assertSameScalars(tok.decode([greekQuestion, semicolon]), "\u{037E};", "decode keeps U+037E")
    let g = try JSONDecoder().decode(GoldenFile.self, from: Data(contentsOf: fixtureURL("gemma3_cases.json")))
    checkGolden(tok, g.cases)
  }

  /// Not a test: GGUF vocabulary load time and encode throughput on ~1 MB of text (SuperGLUE
  /// from the cache if present, else the fixture strings repeated). Runs only with LOMO_BENCH=1.
  func testBenchEncodeSpeed() throws {
    guard ProcessInfo.processInfo.environment["LOMO_BENCH"] == "1" else { throw XCTSkip("set LOMO_BENCH=1 to measure") }
    var corpus = (try? String(contentsOf: URL(fileURLWithPath: ModelSource.cacheDirectory).appendingPathComponent("superglue-1mb.txt"), encoding: .utf8)) ?? ""
    if corpus.isEmpty {
      let g = try JSONDecoder().decode(GoldenFile.self, from: Data(contentsOf: fixtureURL("smollm2_cases.json")))
      let block = g.cases.map(\.text).joined(separator: "\n")
      while corpus.utf8.count < 1 << 20 { corpus += block }
    }
    func seconds(_ t0: ContinuousClock.Instant) -> Double {
      let d = ContinuousClock.now - t0
      return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
    for (name, script) in [(ModelSource.defaultFile, "fetch-default-model.sh"), (gemmaGGUF, "fetch-gemma-vocab.sh")] {
      guard FileManager.default.fileExists(atPath: (ModelSource.cacheDirectory as NSString).appendingPathComponent(name)) else { continue }
      var t0 = ContinuousClock.now
      let file = try GGUFFile(path: TestModels.cachedFile(name, fetchedBy: script))
      let open = seconds(t0)
      t0 = ContinuousClock.now
      let spec = try TokenizerSpec(gguf: file)
      let specTime = seconds(t0)
      t0 = ContinuousClock.now
      let tok = try Tokenizer(spec)
      let build = seconds(t0)
      // Where the build time goes.
      t0 = ContinuousClock.now
      let index = VocabIndex(spec.tokens)
      let indexTime = seconds(t0)
      t0 = ContinuousClock.now
      _ = AddedTokenMatcher(spec.addedTokens)
      let addedTime = seconds(t0)
      t0 = ContinuousClock.now
      if spec.merges == nil { _ = Tokenizer.derivedMerges(spec, vocab: index) }
      let derivedTime = seconds(t0)
      t0 = ContinuousClock.now
      let ids = tok.encode(corpus)
      let cold = seconds(t0)
      t0 = ContinuousClock.now
      _ = tok.encode(corpus)
      let warm = seconds(t0)
      let mb = Double(corpus.utf8.count) / 1e6
      func f(_ x: Double) -> String { String(format: "%.3f", x) }
      print("BENCH \(name): open+parse GGUF \(f(open)) s, spec \(f(specTime)) s, tokenizer \(f(build)) s"
        + " (index \(f(indexTime)), \(spec.addedTokens.count) added tokens \(f(addedTime)), derived merges \(f(derivedTime)));"
        + " \(f(mb)) MB -> \(ids.count) tokens; cold \(f(cold)) s (\(f(mb / cold)) MB/s), warm \(f(warm)) s (\(f(mb / warm)) MB/s)")
    }
  }
}
