import Foundation
import XCTest

@testable import LomoTokenizer

final class PreTokenizerTests: XCTestCase {
  func pieces(_ kind: PreTokenizer, _ text: String) -> [String] {
    let s = ContiguousArray(text.unicodeScalars)
    let cls = s.map(PreTokenize.classify)
    var out: [Range<Int>] = []
    s.withUnsafeBufferPointer { t in
      cls.withUnsafeBufferPointer { c in PreTokenize.split(kind, t, c, 0..<s.count, into: &out) }
    }
    return out.map { r in
      var v = String.UnicodeScalarView()
      v.append(contentsOf: s[r])
      return String(v)
    }
  }

  func testGPT2() {
    XCTAssertEqual(pieces(.gpt2, "Hello world's  end!!  \n x"), ["Hello", " world", "'s", " ", " end", "!!", "  \n", " x"])
    XCTAssertEqual(pieces(.gpt2, "a   b"), ["a", "  ", " b"])
    XCTAssertEqual(pieces(.gpt2, "x 123 4"), ["x", " 123", " 4"])
    XCTAssertEqual(pieces(.gpt2, "end  "), ["end", "  "])
    XCTAssertEqual(pieces(.gpt2, "I'LL"), ["I", "'", "LL"])
  }

  func testSmolLMSplitsDigits() {
    XCTAssertEqual(pieces(.smollm, "x 123 4"), ["x", " ", "1", "2", "3", " ", "4"])
  }

  func testLlama3AndQwen2() {
    XCTAssertEqual(pieces(.llama3, "Hello world's 12345\n\n  x\tyz"), ["Hello", " world", "'s", " ", "123", "45", "\n\n", " ", " x", "\tyz"])
    XCTAssertEqual(pieces(.llama3, "I'LL ..\n"), ["I", "'LL", " ..\n"])
    XCTAssertEqual(pieces(.qwen2, "12345"), ["1", "2", "3", "4", "5"])
    XCTAssertEqual(pieces(.llama3, "a  \n b"), ["a", "  \n", " b"])
  }
}

final class TokenizerAlgorithmTests: XCTestCase {
  /// A byte-level vocabulary over "a", "b", "c", "Ġ" with merges whose ranks decide the result.
  func tinyByteLevel(merges: [String]) throws -> Tokenizer {
    var tokens = ["<|end|>"]
    for b in 0..<256 { tokens.append(String(Character(ByteLevel.byteToScalar[b]))) }
    tokens += ["ab", "bc", "abc", "Ġa", "Ġab"]
    return try Tokenizer(TokenizerSpec(
      model: .bytePairGPT2, tokens: tokens, types: [.control] + Array(repeating: .normal, count: tokens.count - 1),
      merges: merges, preTokenizer: .gpt2, eosID: 0))
  }

  func testMergeRankOrder() throws {
    let t1 = try tinyByteLevel(merges: ["a b", "ab c", "b c", "Ġ a", "Ġa b"])
    XCTAssertEqual(t1.encode("abc").map { t1.token(for: $0)! }, ["abc"])
    // With "b c" first, "abc" cannot form: a + bc.
    let t2 = try tinyByteLevel(merges: ["b c", "a b", "ab c", "Ġ a", "Ġa b"])
    XCTAssertEqual(t2.encode("abc").map { t2.token(for: $0)! }, ["a", "bc"])
    // "a b" outranks "Ġ a", so " ab" is Ġ + ab and "Ġab" is never reached.
    XCTAssertEqual(t1.encode("x ab<|end|>").map { t1.token(for: $0)! }, ["x", "Ġ", "ab", "<|end|>"])
    XCTAssertEqual(t1.encode(" a").map { t1.token(for: $0)! }, ["Ġa"])
    XCTAssertEqual(t1.encode("<|end|>", parseSpecial: false).count, 7)
    XCTAssertEqual(t1.decode(t1.encode("héllo ab<|end|>")), "héllo ab<|end|>")
    XCTAssertEqual(t1.decode(t1.encode("ab<|end|>"), skipSpecial: true), "ab")
  }

  /// SentencePiece: merges derived from scores; unknown characters fall back to bytes.
  func testSentencePieceScoresAndByteFallback() throws {
    var tokens = ["<unk>", "<s>", "</s>"]
    let hex = Array("0123456789ABCDEF")
    for b in 0..<256 { tokens.append("<0x\(hex[b >> 4])\(hex[b & 15])>") }
    let base = tokens.count
    tokens += ["▁", "h", "e", "l", "o", "he", "ll", "hell", "hello", "▁hello", "lo"]
    var scores = [Float](repeating: 0, count: tokens.count)
    for (k, s) in [Float(-1), -1, -1, -1, -1, -5, -4, -3, -2, -1, -0.5].enumerated() { scores[base + k] = s }
    var types = [TokenType](repeating: .normal, count: tokens.count)
    types[0] = .unknown
    types[1] = .control
    types[2] = .control
    for b in 0..<256 { types[3 + b] = .byte }
    let spec = TokenizerSpec(
      model: .sentencePieceBPE, tokens: tokens, scores: scores, types: types, bosID: 1, eosID: 2, unkID: 0,
      addBOS: true, spacePrefix: .first)
    let tok = try Tokenizer(spec)
    // "lo" has the best score but "hello" is reachable only through he, ll, hell: ranks by score
    // give l+o first, so "hello" becomes he + l + lo.
    XCTAssertEqual(tok.encode("hello").map { tok.token(for: $0)! }, ["<s>", "▁", "he", "l", "lo"])
    XCTAssertEqual(tok.encode("hé", addSpecial: false).map { tok.token(for: $0)! }, ["▁", "h", "<0xC3>", "<0xA9>"])
    // The prefix space is stripped only at the very start of the text, as HF's decoders do.
    XCTAssertEqual(tok.decode(tok.encode("hé hello")), "<s> hé hello")
    XCTAssertEqual(tok.decode(tok.encode("hé hello"), skipSpecial: true), "hé hello")
    XCTAssertEqual(tok.decode([3 + 0xC3]), "\u{FFFD}")
  }

  func testSpecValidation() {
    XCTAssertThrowsError(try Tokenizer(TokenizerSpec(model: .bytePairGPT2, tokens: []))) {
      XCTAssertTrue($0 is TokenizerError)
    }
    XCTAssertThrowsError(try Tokenizer(TokenizerSpec(model: .bytePairGPT2, tokens: ["a", "b"], merges: ["a b"]))) {
      guard case TokenizerError.invalidMerge = $0 else { return XCTFail("\($0)") }
    }
    XCTAssertThrowsError(try Tokenizer(TokenizerSpec(model: .bytePairGPT2, tokens: ["a", "b", "ab"], merges: ["a b c"])))
    XCTAssertThrowsError(try Tokenizer(TokenizerSpec(model: .sentencePieceBPE, tokens: ["a"], scores: [1, 2])))
    XCTAssertThrowsError(try Tokenizer(TokenizerSpec(model: .sentencePieceBPE, tokens: ["a"], bosID: 5))) {
      guard case TokenizerError.tokenIdOutOfRange = $0 else { return XCTFail("\($0)") }
    }
  }
}

final class TokenizerJSONValidationTests: XCTestCase {
  func load(_ json: String) throws -> Tokenizer { try Tokenizer(TokenizerSpec(tokenizerJSON: Data(json.utf8))) }

  func assertTokenizerError(_ json: String, line: UInt = #line) {
    XCTAssertThrowsError(try load(json), line: line) { e in
      XCTAssertTrue(e is TokenizerError, "\(e) is not a TokenizerError", line: line)
    }
  }

  let good = #"{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},"added_tokens":[{"id":3,"content":"<x>","special":true}]}"#

  func testGoodMinimalFile() throws {
    let t = try load(good)
    XCTAssertEqual(t.encode("ab<x>"), [2, 3])
  }

  func testMalformedInputs() throws {
    assertTokenizerError("")
    assertTokenizerError("{")
    assertTokenizerError(String(good.dropLast(10)))  // truncated
    assertTokenizerError("[]")
    assertTokenizerError(#"{"model":{"type":"WordPiece","vocab":{}}}"#)
    assertTokenizerError(#"{"model":{"type":"BPE","vocab":[1,2]}}"#)
    assertTokenizerError(#"{"model":{"type":"BPE","vocab":{"a":"zero"}}}"#)
    assertTokenizerError(#"{"model":{"type":"BPE","vocab":{"a":-1}}}"#)
    assertTokenizerError(#"{"model":{"type":"BPE","vocab":{"a":1e300}}}"#)
    assertTokenizerError(#"{"model":{"type":"BPE","vocab":{"a":99999999999}}}"#)  // absurd id
    assertTokenizerError(#"{"model":{"type":"BPE","vocab":{}},"pre_tokenizer":{"type":"ByteLevel"}}"#)
    assertTokenizerError(good.replacingOccurrences(of: #"["a b"]"#, with: #"["a z"]"#))  // unknown token
    assertTokenizerError(good.replacingOccurrences(of: #"["a b"]"#, with: #"["b a"]"#))  // result not in vocab
    assertTokenizerError(good.replacingOccurrences(of: #"["a b"]"#, with: #"[7]"#))
    assertTokenizerError(good.replacingOccurrences(of: #""use_regex":true"#, with: #""use_regex":"yes""#))
    assertTokenizerError(good.replacingOccurrences(of: #""special":true"#, with: #""special":1"#))
    assertTokenizerError(good.replacingOccurrences(of: #""id":3"#, with: #""id":1"#))  // clashes with "b"
    assertTokenizerError(good.replacingOccurrences(of: #""content":"<x>""#, with: #""content":"""#))
    assertTokenizerError(good.replacingOccurrences(of: "ByteLevel", with: "Whitespace"))
  }
}
