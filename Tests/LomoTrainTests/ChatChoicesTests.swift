import LomoFormats
import LomoModel
import LomoTestSupport
import LomoTokenizer
import LomoTrain
import XCTest

/// `ExampleBuilder.choicesUseChatTemplate`: a choice record scored through the chat template.
final class ChatChoicesTests: XCTestCase {
  let record = DatasetRecord.choice(ChoiceRecord(prompt: "Capital of France?", choices: ["Paris", "Rome"], label: 0))

  /// The real SmolLM2 template (its default system turn included) and tokenizer: the prompt is
  /// the user turn plus the generation prompt, each candidate the reply and `<|im_end|>\n`.
  func testSmolLM2PromptAndCandidateIDs() throws {
    let path = try TestModels.cachedFile(ModelSource.defaultFile, fetchedBy: "fetch-default-model.sh")
    let tokenizer = try Tokenizer(gguf: GGUFFile(path: path))
    var b = ExampleBuilder(encoder: tokenizer, maxSequenceLength: 512,
                           chatTemplate: try XCTUnwrap(tokenizer.chatTemplate(ggufPath: path)))
    b.choicesUseChatTemplate = true
    let item = try XCTUnwrap(try b.evaluationItem(record))
    let promptText = """
      <|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
      <|im_start|>user\nCapital of France?<|im_end|>\n<|im_start|>assistant\n
      """
    XCTAssertEqual(item.prompt, tokenizer.encode(promptText, addSpecial: false))
    XCTAssertEqual(item.prompt, [
      1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407, 19712, 8182, 2,
      198, 1, 4093, 198, 39832, 282, 4649, 47, 2, 198, 1, 520, 9531, 198,
    ])
    // "Paris" and "Rome" are one token each; <|im_end|> (2) is SmolLM2's EOS, so none is added.
    XCTAssertEqual(item.candidates, [[38634, 2, 198], [46292, 2, 198]])
    XCTAssertEqual(item.candidates.map { tokenizer.decode($0) }, ["Paris<|im_end|>\n", "Rome<|im_end|>\n"])
    XCTAssertEqual(item.label, 0)
    // What a {"messages"} record with that reply trains on.
    for (choice, candidate) in zip(["Paris", "Rome"], item.candidates) {
      let chat = try b.trainingExample(.chat([ChatMessage(role: "user", content: "Capital of France?"),
                                              ChatMessage(role: "assistant", content: choice)]))
      XCTAssertEqual(chat.targets.filter { $0 >= 0 }, candidate)
      XCTAssertEqual(Array(chat.tokens.prefix(item.prompt.count)), item.prompt)
    }
  }

  /// Off (the default), the prompt is plain text with the tokenizer's BOS.
  func testOffScoresPlainText() throws {
    var b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 512,
                           chatTemplate: .success(try ChatTemplate(template: ExampleBuilderTests.chatML, bosToken: "", eosToken: "")))
    let plain = try XCTUnwrap(try b.evaluationItem(record))
    XCTAssertEqual(plain.prompt, [1] + "Capital of France?".utf8.map { Int32($0) })
    b.choicesUseChatTemplate = true
    let chat = try XCTUnwrap(try b.evaluationItem(record))
    XCTAssertEqual(chat.prompt, "<|im_start|>user\nCapital of France?<|im_end|>\n<|im_start|>assistant\n".utf8.map { Int32($0) })
    XCTAssertEqual(chat.candidates, ["Paris<|im_end|>\n", "Rome<|im_end|>\n"].map { $0.utf8.map { Int32($0) } + [2] })
  }

  /// Without a usable template it throws what a {"messages"} record would, with the line.
  func testNoTemplateIsTheChatError() throws {
    let path = try writeJSONL([#"{"prompt": "Capital of France?", "choices": ["Paris", "Rome"], "label": 0}"#])
    let data = try Dataset.load(path: path)
    var b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 512)
    b.choicesUseChatTemplate = true
    XCTAssertThrowsError(try b.evaluationItem(record)) { XCTAssertEqual($0 as? ExampleError, .noChatTemplate) }
    XCTAssertThrowsError(try data.evaluationItems(&b)) {
      XCTAssertEqual($0 as? DatasetError,
                     DatasetError(file: path, line: 1, .invalidField("record", ExampleError.noChatTemplate.description)))
    }
    let broken = ChatTemplate.load("{% if %}", source: "m.gguf: tokenizer.chat_template", bosToken: "", eosToken: "")
    b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 512, chatTemplate: broken)
    b.choicesUseChatTemplate = true
    XCTAssertThrowsError(try b.evaluationItem(record)) {
      guard case .unusableChatTemplate(let why)? = $0 as? ExampleError else { return XCTFail("\($0)") }
      XCTAssertTrue(why.hasPrefix("m.gguf: tokenizer.chat_template: "), why)
    }
  }
}
