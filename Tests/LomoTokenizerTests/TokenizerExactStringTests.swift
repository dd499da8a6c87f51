import Foundation
import LomoFormats
import XCTest

@testable import LomoTokenizer

/// Vocabularies hold distinct tokens for canonically equivalent spellings (";" and U+037E GREEK
/// QUESTION MARK, "é" and "e" + U+0301) and tokens with U+FEFF; Swift `String ==` would merge them.
final class TokenizerExactStringTests: XCTestCase {
  func testVocabIndexComparesBytes() {
    let index = VocabIndex([";", "\u{037E}", "\u{00E9}", "e\u{301}", "", "x", "x"])
    XCTAssertEqual(index.id(";"), 0)
    XCTAssertEqual(index.id("\u{037E}"), 1)
    XCTAssertEqual(index.id("\u{00E9}"), 2)
    XCTAssertEqual(index.id("e\u{301}"), 3)
    XCTAssertNil(index.id(""))  // gaps are not tokens
    XCTAssertEqual(index.id("x"), 6)  // the later duplicate wins, as in llama.cpp and HF
    XCTAssertNil(index.id("\u{037E};"))
  }

  /// SentencePiece spec: single-scalar tokens, merges derived from the vocabulary, decode.
  func testCanonicallyEquivalentTokensStayDistinct() throws {
    let tokens = ["<unk>", ";", "\u{037E}", "e", "\u{301}", "e\u{301}", "\u{00E9}", "\u{2581}"]
    let tok = try Tokenizer(TokenizerSpec(model: .sentencePieceBPE, tokens: tokens, unkID: 0, mergeOrder: .byTokenIndex))
    XCTAssertEqual(tok.encode(";\u{037E}\u{00E9}e\u{301}"), [1, 2, 6, 5])
    XCTAssertEqual(tok.id(for: "\u{037E}"), 2)
    XCTAssertEqual(tok.id(for: "e\u{301}"), 5)
    XCTAssertEqual(Array(tok.decode([2, 1, 5, 6]).unicodeScalars), Array("\u{037E};e\u{301}\u{00E9}".unicodeScalars))
  }

  /// Ids checked once against Hugging Face `tokenizers` 0.23.3 (`Tokenizer.from_str` on this JSON):
  /// "\u{FEFF}x;\u{037E}" -> [4, 1, 2], "e\u{301}\u{00E9};" -> [7, 8, 1].
  func testTokenizerJSONKeepsExactStrings() throws {
    let json = #"""
      {"model": {"type": "BPE", "vocab": {"x": 0, ";": 1, "\u037e": 2, "\ufeff": 3, "\ufeffx": 4, "e": 5,
      "\u0301": 6, "e\u0301": 7, "\u00e9": 8}, "merges": [["\ufeff", "x"], ["e", "\u0301"]], "byte_fallback": false},
      "normalizer": null, "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "never",
      "split": false}, "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "never",
      "split": false}, "added_tokens": []}
      """#
    let tok = try Tokenizer(TokenizerSpec(tokenizerJSON: Data(json.utf8)))
    XCTAssertEqual(tok.vocabSize, 9)
    XCTAssertEqual(tok.encode("\u{FEFF}x;\u{037E}"), [4, 1, 2])
    XCTAssertEqual(tok.encode("e\u{301}\u{00E9};"), [7, 8, 1])
    XCTAssertEqual(Array(tok.token(for: 3)!.unicodeScalars), ["\u{FEFF}"])
    XCTAssertEqual(Array(tok.decode([4, 1, 2]).unicodeScalars), Array("\u{FEFF}x;\u{037E}".unicodeScalars))
  }

  /// HF strips the prefix space by character (scalar); `String.hasPrefix(" ")` is false when a
  /// combining mark follows it. Ids and decode from HF on tiny_spm.json.
  func testDecodeStripsPrefixSpaceBeforeCombiningMark() throws {
    let tok = try Tokenizer(tokenizerJSON: fixtureURL("tiny_spm.json"))
    XCTAssertEqual(tok.encode("\u{301}x"), [308, 207, 132, 301])
    XCTAssertEqual(Array(tok.decode([308, 207, 132, 301]).unicodeScalars), ["\u{301}", "x"])
    XCTAssertEqual(Array(tok.decode([322, 207, 132, 301]).unicodeScalars), [" ", "\u{301}", "x"])
  }
}

/// tokenizer.json errors keep the tokenizer's cases: syntax as `.malformedJSON`, a field of
/// the wrong type as `.invalidField` at its path. (The parser itself is tested in LomoCoreTests.)
final class TokenizerJSONErrorTests: XCTestCase {
  func testErrorsAreTokenizerErrorsWithPaths() {
    XCTAssertThrowsError(try TokenizerSpec(tokenizerJSON: Data(#"{"model": "#.utf8))) { e in
      guard case TokenizerError.malformedJSON(let m) = e else { return XCTFail("\(e)") }
      XCTAssertTrue(m.contains("byte offset 10"), m)
    }
    XCTAssertThrowsError(try TokenizerSpec(tokenizerJSON: Data(#"{"model": {"vocab": {"a b": "x"}}}"#.utf8))) { e in
      XCTAssertEqual(e as? TokenizerError, .invalidField(path: #"$.model.vocab["a b"]"#, reason: "expected an integer, found a string"))
    }
    XCTAssertThrowsError(try TokenizerSpec(tokenizerJSON: Data(#"{"model": {"vocab": {"a": 0}}, "added_tokens": [{"id": 1.5}]}"#.utf8))) { e in
      XCTAssertEqual(e as? TokenizerError, .invalidField(path: "$.added_tokens[0].id", reason: "expected an integer, found a fraction"))
    }
  }
}

/// `init(gguf:)` on GGUF images written here: no downloaded file needed.
final class TokenizerGGUFTests: XCTestCase {
  /// A GGUF v3 image with metadata only.
  struct Writer {
    var kv: [UInt8] = []
    var count = 0
    /// Keys left out (to replace them with another value or type).
    var omit: Set<String> = []

    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { kv += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { kv += $0 } }
    mutating func str(_ s: String) {
      u64(UInt64(s.utf8.count))
      kv += s.utf8
    }
    /// Writes the key and type; false if the key is omitted.
    mutating func key(_ k: String, _ type: UInt32) -> Bool {
      if omit.contains(k) { return false }
      str(k)
      u32(type)
      count += 1
      return true
    }
    mutating func string(_ k: String, _ v: String) {
      guard key(k, 8) else { return }
      str(v)
    }
    mutating func uint32(_ k: String, _ v: UInt32) {
      guard key(k, 4) else { return }
      u32(v)
    }
    mutating func bool(_ k: String, _ v: Bool) {
      guard key(k, 7) else { return }
      kv.append(v ? 1 : 0)
    }
    mutating func strings(_ k: String, _ v: [String]) {
      guard key(k, 9) else { return }
      u32(8)
      u64(UInt64(v.count))
      for s in v { str(s) }
    }
    mutating func int32s(_ k: String, _ v: [Int32]) {
      guard key(k, 9) else { return }
      u32(5)
      u64(UInt64(v.count))
      for x in v { u32(UInt32(bitPattern: x)) }
    }
    mutating func float32s(_ k: String, _ v: [Float]) {
      guard key(k, 9) else { return }
      u32(6)
      u64(UInt64(v.count))
      for x in v { u32(x.bitPattern) }
    }

    func file() throws -> GGUFFile {
      var out: [UInt8] = Array("GGUF".utf8)
      withUnsafeBytes(of: UInt32(3).littleEndian) { out += $0 }
      withUnsafeBytes(of: UInt64(0).littleEndian) { out += $0 }
      withUnsafeBytes(of: UInt64(count).littleEndian) { out += $0 }
      out += kv
      while out.count % 32 != 0 { out.append(0) }
      return try GGUFFile(contentsOf: out, name: "test.gguf")
    }
  }

  /// A byte-level vocabulary: the 256 alphabet characters, "ab", a control token.
  func byteLevel(omit: Set<String> = [], _ edit: (inout Writer) -> Void = { _ in }) throws -> GGUFFile {
    var w = Writer(omit: omit)
    let tokens = ByteLevel.byteToScalar.map { String(Character($0)) } + ["ab", "<|end|>"]
    w.string("general.architecture", "llama")
    w.string("tokenizer.ggml.model", "gpt2")
    w.string("tokenizer.ggml.pre", "smollm")
    w.strings("tokenizer.ggml.tokens", tokens)
    w.int32s("tokenizer.ggml.token_type", Array(repeating: 1, count: 257) + [3])
    w.strings("tokenizer.ggml.merges", ["a b"])
    w.uint32("tokenizer.ggml.eos_token_id", 257)
    w.bool("tokenizer.ggml.add_bos_token", false)
    w.string("tokenizer.chat_template", "{{ '<|im_start|>' + message['content'] }}")
    edit(&w)
    return try w.file()
  }

  func testByteLevelFromGGUF() throws {
    let tok = try Tokenizer(gguf: byteLevel())
    XCTAssertEqual(tok.spec.model, .bytePairGPT2)
    XCTAssertEqual(tok.spec.preTokenizer, .smollm)
    XCTAssertEqual(tok.eosID, 257)
    XCTAssertEqual(tok.encode("ab<|end|>"), [256, 257])
    XCTAssertEqual(tok.decode(tok.encode("ab 12<|end|>")), "ab 12<|end|>")
    let chat = try XCTUnwrap(tok.chatTemplate(ggufPath: "tiny.gguf")).get()
    XCTAssertEqual(chat.source, "{{ '<|im_start|>' + message['content'] }}")
    XCTAssertEqual(chat.eosToken, "<|end|>")
  }

  func testSentencePieceFromGGUF() throws {
    var w = Writer()
    let hex = Array("0123456789ABCDEF")
    let tokens = ["<unk>", "<s>", "</s>"] + (0..<256).map { "<0x\(hex[$0 >> 4])\(hex[$0 & 15])>" } + ["\u{2581}", "h", "i", "hi", "\u{2581}hi"]
    var types = [Int32](repeating: 1, count: tokens.count)
    types[0] = 2
    types[1] = 3
    types[2] = 3
    for b in 0..<256 { types[3 + b] = 6 }
    var scores = [Float](repeating: 0, count: tokens.count)
    scores[262] = -1  // "hi"
    scores[263] = -2  // "▁hi"
    w.string("general.architecture", "llama")
    w.string("tokenizer.ggml.model", "llama")
    w.strings("tokenizer.ggml.tokens", tokens)
    w.float32s("tokenizer.ggml.scores", scores)
    w.int32s("tokenizer.ggml.token_type", types)
    w.uint32("tokenizer.ggml.bos_token_id", 1)
    w.uint32("tokenizer.ggml.eos_token_id", 2)
    w.uint32("tokenizer.ggml.unknown_token_id", 0)
    let tok = try Tokenizer(gguf: w.file())
    XCTAssertEqual(tok.spec.model, .sentencePieceBPE)
    XCTAssertEqual(tok.spec.spacePrefix, .first)  // LLaMA default without add_space_prefix
    XCTAssertEqual(tok.encode("hi hé").map { tok.token(for: $0)! }, ["<s>", "▁hi", "▁", "h", "<0xC3>", "<0xA9>"])
    XCTAssertEqual(tok.decode(tok.encode("hi hé"), skipSpecial: true), "hi hé")
  }

  func testBadMetadataThrowsTypedErrors() throws {
    // A key of the wrong type: GGUFError naming the key.
    XCTAssertThrowsError(try Tokenizer(gguf: byteLevel(omit: ["tokenizer.ggml.model"]) { w in
      w.omit = []
      w.uint32("tokenizer.ggml.model", 2)
    })) { e in
      XCTAssertTrue(e is GGUFError, "\(e)")
    }
    var w = Writer()
    w.string("tokenizer.ggml.model", "gpt2")
    XCTAssertThrowsError(try Tokenizer(gguf: w.file())) { e in  // no tokens
      guard case GGUFError.missingKey = e else { return XCTFail("\(e)") }
    }
    // Values out of range: TokenizerFileError naming the file.
    XCTAssertThrowsError(try Tokenizer(gguf: byteLevel { $0.uint32("tokenizer.ggml.bos_token_id", 9999) })) { e in
      guard case .tokenIdOutOfRange = (e as? TokenizerFileError)?.error, "\(e)".hasPrefix("test.gguf: ") else { return XCTFail("\(e)") }
    }
    XCTAssertThrowsError(
      try Tokenizer(gguf: byteLevel(omit: ["tokenizer.ggml.model"]) { w in
        w.omit = []
        w.string("tokenizer.ggml.model", "bert")
      })
    ) { e in
      guard case .unsupported = (e as? TokenizerFileError)?.error, "\(e)".hasPrefix("test.gguf: ") else { return XCTFail("\(e)") }
    }
    var bad = Writer()
    bad.string("tokenizer.ggml.model", "gpt2")
    bad.strings("tokenizer.ggml.tokens", ["a", "b", "ab"])
    bad.int32s("tokenizer.ggml.token_type", [1, 1, 99])
    bad.strings("tokenizer.ggml.merges", ["a b"])
    XCTAssertThrowsError(try Tokenizer(gguf: bad.file())) { e in
      guard case .invalidField = (e as? TokenizerFileError)?.error, "\(e)".hasPrefix("test.gguf: ") else { return XCTFail("\(e)") }
    }
    var merge = Writer()
    merge.string("tokenizer.ggml.model", "gpt2")
    merge.strings("tokenizer.ggml.tokens", ["a", "b", "ab"])
    merge.strings("tokenizer.ggml.merges", ["a  b"])
    XCTAssertThrowsError(try Tokenizer(gguf: merge.file())) { e in
      guard case .invalidMerge = (e as? TokenizerFileError)?.error, "\(e)".hasPrefix("test.gguf: ") else { return XCTFail("\(e)") }
    }
  }
}
