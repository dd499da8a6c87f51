import Foundation
import LomoFormats
import LomoModel
import LomoTestSupport
import LomoTokenizer
import LomoTrain
import XCTest

/// The tokenizer.json that `ModelExporter` rebuilds from GGUF metadata reads back into the
/// same tokenizer (no Hugging Face reference file needed).
final class TokenizerExportRoundTripTests: XCTestCase {
  /// The default model's GGUF and the Hugging Face tokenizer files rebuilt from it.
  func exportedDefaultTokenizer() throws -> (GGUFFile, [String: Data]) {
    guard FileManager.default.fileExists(atPath: ModelSource.defaultPath) else {
      throw XCTSkip("needs \(ModelSource.defaultPath); run bash scripts/setup.sh")
    }
    let file = try GGUFFile(path: ModelSource.defaultPath)
    var files: [String: Data]?
    if case .files(let converted) = ModelExporter.huggingFaceTokenizer(from: file.metadata, maxContext: 8192) { files = converted }
    return (file, try XCTUnwrap(files, "SmolLM2's tokenizer should convert"))
  }

  func testRebuiltTokenizerJSONEncodesAsTheGGUF() throws {
    let (file, files) = try exportedDefaultTokenizer()
    let gguf = try Tokenizer(gguf: file)
    let rebuilt = try Tokenizer(TokenizerSpec(
      tokenizerJSON: try XCTUnwrap(files["tokenizer.json"]), config: files["tokenizer_config.json"]))
    XCTAssertEqual(rebuilt.vocabSize, gguf.vocabSize)
    for text in ["Hello, world!", " 12345 digits", "<|im_start|>user\nCafé e\u{301} ;\u{037E}<|im_end|>", "\u{FEFF}tabs\t\tand\n\nlines"] {
      XCTAssertEqual(rebuilt.encode(text), gguf.encode(text), text.debugDescription)
    }
  }

  /// An exported folder carries the GGUF's chat template (tokenizer_config.json), which lomo
  /// reads back: the same rendering, and chat records train with the folder's tokenizer.
  func testExportedFolderHasTheChatTemplate() throws {
    let (file, files) = try exportedDefaultTokenizer()
    let dir = try temporaryDirectory("export-chat")
    for (name, data) in files { try data.write(to: dir.url.appendingPathComponent(name)) }
    let tokenizer = try Tokenizer(tokenizerJSON: dir.url.appendingPathComponent("tokenizer.json"),
                                  config: dir.url.appendingPathComponent("tokenizer_config.json"))
    let fromFolder = try XCTUnwrap(ChatTemplate.load(huggingFaceFolder: dir.url, bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken)).get()
    let fromGGUF = try XCTUnwrap(try Tokenizer(gguf: file).chatTemplate(ggufPath: file.path)).get()
    let messages = [ChatMessage(role: "user", content: "What is 2+2?"), ChatMessage(role: "assistant", content: "4")]
    XCTAssertEqual(try fromFolder.render(messages, addGenerationPrompt: false), try fromGGUF.render(messages, addGenerationPrompt: false))

    var builder = ExampleBuilder(encoder: tokenizer, maxSequenceLength: 128, chatTemplate: .success(fromFolder))
    let example = try builder.trainingExample(.chat(messages))
    let trained = example.targets.filter { $0 >= 0 }
    let end = try XCTUnwrap(tokenizer.id(for: "<|im_end|>"))
    XCTAssertEqual(tokenizer.decode(trained, skipSpecial: true), "4\n", "the answer and the template's newline after it")
    XCTAssertTrue(trained.contains(end))
  }
}
