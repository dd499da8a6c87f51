import Foundation
import XCTest

@testable import LomoTokenizer

/// Real chat templates of the families lomo loads (Fixtures/chat_templates/*.jinja), rendered by
/// transformers' renderer over a set of conversations (scripts/make_chat_template_fixtures.py),
/// must render byte for byte the same here, raised errors included.
final class ChatTemplateGoldenTests: XCTestCase {
  struct Case: Decodable {
    let template: String
    let messages: [ChatMessage]
    let add_generation_prompt: Bool
    let rendered: String?
    let error: String?
  }

  struct File: Decodable {
    let now: String
    let tokens: [String: [String]]
    let cases: [Case]
  }

  static func load() throws -> File {
    try JSONDecoder().decode(File.self, from: Data(contentsOf: fixtureURL("chat_template_cases.json")))
  }

  static func template(_ name: String, _ file: File) throws -> ChatTemplate {
    let url = try fixtureURL("chat_templates/\(name).jinja")
    let tokens = try XCTUnwrap(file.tokens[name])
    return try ChatTemplate(template: String(decoding: Data(contentsOf: url), as: UTF8.self), bosToken: tokens[0], eosToken: tokens[1])
  }

  /// The fixture's local time (`2026-03-05T14:07:09`), which its strftime_now read.
  static func fixtureNow(_ iso: String) throws -> Date {
    let parts = iso.split(whereSeparator: { "-T:".contains($0) }).compactMap { Int($0) }
    guard parts.count == 6 else { throw XCTSkip("bad fixture time \(iso)") }
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = .current
    let c = DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4], second: parts[5])
    return try XCTUnwrap(calendar.date(from: c))
  }

  func testRealTemplatesRenderAsTransformersDoes() throws {
    let file = try Self.load()
    let now = try Self.fixtureNow(file.now)
    let families = Set(file.cases.map(\.template))
    XCTAssertEqual(families, ["smollm2", "llama2", "tinyllama", "mistral-v1", "mistral-v3", "mistral-nemo", "llama3",
                              "llama3.1", "llama3.2", "qwen2.5", "qwen3", "gemma3"])
    var templates: [String: ChatTemplate] = [:]
    for name in families { templates[name] = try Self.template(name, file) }
    var failed: Set<String> = []
    for c in file.cases {
      let t = try XCTUnwrap(templates[c.template])
      let what = "\(c.template) gen=\(c.add_generation_prompt) \(c.messages.map(\.role))"
      do {
        let out = try t.render(c.messages, addGenerationPrompt: c.add_generation_prompt, now: now)
        guard let expected = c.rendered else {
          failed.insert(c.template)
          XCTFail("\(what): rendered, but transformers raised \(c.error ?? "")")
          continue
        }
        if !Array(out.unicodeScalars).elementsEqual(expected.unicodeScalars) {
          failed.insert(c.template)
          XCTFail("\(what):\n got \(out.debugDescription)\nwant \(expected.debugDescription)")
        }
      } catch {
        guard let expected = c.error else {
          failed.insert(c.template)
          XCTFail("\(what): \(error)")
          continue
        }
        XCTAssertEqual(error.kind, .raised, what)
        XCTAssertEqual(error.message, expected, what)
      }
    }
    XCTAssertEqual(failed, [], "families that differ from transformers")
    XCTAssertEqual(file.cases.filter { $0.error != nil }.count, 24, "the fixture's raised errors are exercised")
  }

  /// The end-of-turn marker comes from rendering, not from guessing by family: Llama 3 (whose
  /// EOS is `<|end_of_text|>`) ends turns with `<|eot_id|>`, Gemma 3 with `<end_of_turn>`.
  func testEndOfTurnIsWhatFollowsAnAssistantTurn() throws {
    let file = try Self.load()
    // nil where the turn ends with the EOS token itself (EOS already stops generation).
    let expected: [String: String?] = [
      "llama3": "<|eot_id|>", "gemma3": "<end_of_turn>",
      "smollm2": nil, "qwen2.5": nil, "qwen3": nil, "llama3.1": nil, "llama3.2": nil,
      "llama2": nil, "tinyllama": nil, "mistral-v1": nil, "mistral-v3": nil, "mistral-nemo": nil,
    ]
    for (name, marker) in expected {
      XCTAssertEqual(try Self.template(name, file).endOfTurn, marker, name)
    }
  }
}
