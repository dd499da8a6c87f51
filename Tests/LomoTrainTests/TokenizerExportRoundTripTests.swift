import Foundation
import LomoFormats
import LomoModel
import LomoTokenizer
import XCTest

/// The tokenizer.json that `ModelExporter` rebuilds from GGUF metadata reads back into the
/// same tokenizer (no Hugging Face reference file needed).
final class TokenizerExportRoundTripTests: XCTestCase {
  func testRebuiltTokenizerJSONEncodesAsTheGGUF() throws {
    guard FileManager.default.fileExists(atPath: ModelSource.defaultPath) else {
      throw XCTSkip("needs \(ModelSource.defaultPath); run bash scripts/setup.sh")
    }
    let file = try GGUFFile(path: ModelSource.defaultPath)
    guard case .files(let files) = ModelExporter.huggingFaceTokenizer(from: file.metadata, maxContext: 8192) else {
      return XCTFail("SmolLM2's tokenizer should convert")
    }
    let gguf = try Tokenizer(gguf: file)
    let rebuilt = try Tokenizer(TokenizerSpec(
      tokenizerJSON: try XCTUnwrap(files["tokenizer.json"]), config: files["tokenizer_config.json"]))
    XCTAssertEqual(rebuilt.vocabSize, gguf.vocabSize)
    for text in ["Hello, world!", " 12345 digits", "<|im_start|>user\nCafé e\u{301} ;\u{037E}<|im_end|>", "\u{FEFF}tabs\t\tand\n\nlines"] {
      XCTAssertEqual(rebuilt.encode(text), gguf.encode(text), text.debugDescription)
    }
  }
}
