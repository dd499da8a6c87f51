import Foundation
import LomoTestSupport
import XCTest

@testable import LomoTokenizer

/// A Hugging Face folder's chat template: `chat_template.jinja` first (as transformers'
/// from_pretrained), else `tokenizer_config.json`'s `chat_template` string or "default" entry.
final class ChatTemplateFolderTests: XCTestCase {
  let chatML = "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}"

  func render(_ loaded: LoadedChatTemplate?) throws -> String {
    try XCTUnwrap(loaded).get().render([ChatMessage(role: "user", content: "hi")], addGenerationPrompt: false)
  }

  func testTemplateFromTokenizerConfig() throws {
    let dir = try temporaryDirectory("chat-config")
    try dir.write(#"{"bos_token": "<s>", "chat_template": "\#(chatML.replacingOccurrences(of: "\\", with: "\\\\"))"}"#, "tokenizer_config.json")
    XCTAssertEqual(try render(ChatTemplate.load(huggingFaceFolder: dir.url, bosToken: "<s>", eosToken: "</s>")), "<|im_start|>user\nhi<|im_end|>\n")
  }

  func testNamedTemplatesUseDefault() throws {
    let dir = try temporaryDirectory("chat-named")
    try dir.write(#"{"chat_template": [{"name": "tool_use", "template": "tools"}, {"name": "default", "template": "plain {{ messages | length }}"}]}"#,
                  "tokenizer_config.json")
    XCTAssertEqual(try render(ChatTemplate.load(huggingFaceFolder: dir.url, bosToken: "", eosToken: "")), "plain 1")
    try dir.write(#"{"chat_template": [{"name": "tool_use", "template": "tools"}]}"#, "tokenizer_config.json")
    let none = try XCTUnwrap(ChatTemplate.load(huggingFaceFolder: dir.url, bosToken: "", eosToken: ""))
    XCTAssertThrowsError(try none.get()) {
      XCTAssertTrue("\($0)".contains("none named \"default\""), "\($0)")
    }
  }

  func testJinjaFileTakesPrecedence() throws {
    let dir = try temporaryDirectory("chat-jinja")
    try dir.write(#"{"chat_template": "from the config"}"#, "tokenizer_config.json")
    try dir.write(chatML, "chat_template.jinja")
    XCTAssertEqual(try render(ChatTemplate.load(huggingFaceFolder: dir.url, bosToken: "", eosToken: "")), "<|im_start|>user\nhi<|im_end|>\n")
  }

  func testNoTemplateAndBrokenTemplate() throws {
    let dir = try temporaryDirectory("chat-none")
    XCTAssertNil(ChatTemplate.load(huggingFaceFolder: dir.url, bosToken: "", eosToken: ""))
    try dir.write(#"{"bos_token": "<s>"}"#, "tokenizer_config.json")
    XCTAssertNil(ChatTemplate.load(huggingFaceFolder: dir.url, bosToken: "", eosToken: ""))
    try dir.write("line one\n{% for m in messages %}", "chat_template.jinja")
    let broken = try XCTUnwrap(ChatTemplate.load(huggingFaceFolder: dir.url, bosToken: "", eosToken: ""))
    XCTAssertThrowsError(try broken.get()) {
      let text = "\($0)"
      XCTAssertTrue(text.hasPrefix(dir("chat_template.jinja") + ": the chat template cannot be used: line 2: 'for' is never closed"), text)
    }
  }
}
