import Foundation
import LomoFormats
import LomoModel
import LomoTestSupport
import LomoTokenizer
import LomoTrain
import XCTest

/// `--train-on last|all`: which assistant turns of a conversation are targets, with the
/// byte-level stand-in (BOS 1, EOS 2) and the real SmolLM2 tokenizer and template.
final class ChatTurnsTests: XCTestCase {
  let twoTurns = [
    ChatMessage(role: "user", content: "hi"), ChatMessage(role: "assistant", content: "yo"),
    ChatMessage(role: "user", content: "ok?"), ChatMessage(role: "assistant", content: "ya"),
  ]

  func chatML() throws -> LoadedChatTemplate {
    .success(try ChatTemplate(template: ExampleBuilderTests.chatML, bosToken: "", eosToken: "<|im_end|>"))
  }

  /// The sequence (tokens + the last target) and, per id, whether it is a target.
  func flags(_ e: TokenizedExample) -> [Bool] {
    [false] + e.targets.map { $0 >= 0 }
  }

  func testAllTrainsEveryAssistantTurnByteForByte() throws {
    var b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 512, chatTemplate: try chatML())
    b.trainOn = .all
    let e = try b.trainingExample(.chat(twoTurns))
    let pieces: [(String, Bool)] = [
      ("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", false), ("yo<|im_end|>\n", true),
      ("<|im_start|>user\nok?<|im_end|>\n<|im_start|>assistant\n", false), ("ya<|im_end|>\n", true),
    ]
    let ids: [Int32] = pieces.flatMap { piece in piece.0.utf8.map { Int32($0) } } + [2]
    let trained: [Bool] = pieces.flatMap { [Bool](repeating: $0.1, count: $0.0.utf8.count) } + [true]
    XCTAssertEqual(e.tokens, Array(ids.dropLast()))
    XCTAssertEqual(e.targets, zip(ids, trained).dropFirst().map { id, isTarget in isTarget ? id : TokenizedExample.ignored })
    XCTAssertEqual(b.conversationsWithUntrainedTurns, 0)

    b.trainOn = .last
    let last = try b.trainingExample(.chat(twoTurns))
    XCTAssertEqual(last.tokens, e.tokens)
    XCTAssertEqual(last.targets.filter { $0 >= 0 }, Array("ya<|im_end|>\n".utf8).map { Int32($0) } + [2])
    XCTAssertEqual(b.conversationsWithUntrainedTurns, 1, "counted for the note")
  }

  /// The real SmolLM2 template and tokenizer: ids and masks of a two-turn conversation.
  func testSmolLM2TwoTurnMasks() throws {
    let path = try TestModels.cachedFile(ModelSource.defaultFile, fetchedBy: "fetch-default-model.sh")
    let tokenizer = try Tokenizer(gguf: GGUFFile(path: path))
    let template = try XCTUnwrap(tokenizer.chatTemplate(ggufPath: path))
    var b = ExampleBuilder(encoder: tokenizer, maxSequenceLength: 512, chatTemplate: template)
    b.trainOn = .all
    let messages = [
      ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "2+2?"),
      ChatMessage(role: "assistant", content: "4"), ChatMessage(role: "user", content: "3+3?"),
      ChatMessage(role: "assistant", content: "6"),
    ]
    let e = try b.trainingExample(.chat(messages))
    let text = """
      <|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n\
      4<|im_end|>\n<|im_start|>user\n3+3?<|im_end|>\n<|im_start|>assistant\n6<|im_end|>\n
      """
    let ids = tokenizer.encode(text, addSpecial: false)
    XCTAssertEqual(e.tokens + [try XCTUnwrap(ids.last)], ids)
    XCTAssertEqual(ids, [
      1, 9690, 198, 6077, 5453, 30, 2, 198, 1, 4093, 198, 34, 27, 34, 47, 2, 198, 1, 520, 9531, 198,
      36, 2, 198, 1, 4093, 198, 35, 27, 35, 47, 2, 198, 1, 520, 9531, 198, 38, 2, 198,
    ])
    // Targets: "4<|im_end|>\n" and "6<|im_end|>\n", three ids each (<|im_end|> is SmolLM2's EOS).
    let trained = Set([21, 22, 23, 37, 38, 39])
    XCTAssertEqual(flags(e), ids.indices.map { trained.contains($0) })
    XCTAssertEqual(tokenizer.decode(e.targets.filter { $0 >= 0 }), "4<|im_end|>\n6<|im_end|>\n")

    b.trainOn = .last
    let last = try b.trainingExample(.chat(messages))
    XCTAssertEqual(last.tokens, e.tokens)
    XCTAssertEqual(flags(last), ids.indices.map { $0 >= 37 })
  }

  /// `--train-on last` is the rule before `--train-on` existed, truncation included: prompt =
  /// the rendering before the last assistant turn with the generation prompt, completion =
  /// the rest of the whole rendering + EOS, the prompt losing its start when too long.
  func testLastIsThePromptCompletionRule() throws {
    let loaded = try chatML()
    let template = try loaded.get()
    let followed = twoTurns + [ChatMessage(role: "user", content: "bye")]
    for (messages, last) in [(twoTurns, 3), (Array(twoTurns.prefix(2)), 1), (followed, 3)] {
      let prompt = try template.render(Array(messages[..<last]), addGenerationPrompt: true)
      let full = try template.render(Array(messages[...last]), addGenerationPrompt: false)
      let p = prompt.utf8.map { Int32($0) }
      let c = full.dropFirst(prompt.count).utf8.map { Int32($0) } + [2]
      var b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 512, chatTemplate: loaded)
      XCTAssertEqual(try b.trainingExample(.chat(messages)), TokenizedExample(prompt: p, completion: c))
      b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 40, chatTemplate: loaded)
      XCTAssertEqual(try b.trainingExample(.chat(messages)),
                     TokenizedExample(prompt: Array(p.suffix(41 - c.count)), completion: c))
      XCTAssertEqual(b.truncatedCount, 1)
    }
  }

  /// Truncation drops from the left and keeps the trained tokens at the end.
  func testAllTruncationKeepsTheTrainedEnd() throws {
    let first = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n".utf8.map { Int32($0) }
    let rest = "yo<|im_end|>\n<|im_start|>user\nok?<|im_end|>\n<|im_start|>assistant\nya<|im_end|>\n".utf8.map { Int32($0) } + [2]
    var b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 512, chatTemplate: try chatML())
    b.trainOn = .all
    let whole = try b.trainingExample(.chat(twoTurns))
    let restFlags = Array(flags(whole).suffix(rest.count))
    // The first prompt loses its start: 10 of its ids stay, every turn is kept.
    b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: rest.count + 9, chatTemplate: try chatML())
    b.trainOn = .all
    let cut = try b.trainingExample(.chat(twoTurns))
    XCTAssertEqual(cut, TokenizedExample(prompt: Array(first.suffix(10)), completion: rest, trained: restFlags))
    // Shorter than the turns: the first prompt id, then the end, the last turn whole.
    b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 29, chatTemplate: try chatML())
    b.trainOn = .all
    let end = try b.trainingExample(.chat(twoTurns))
    XCTAssertEqual(end, TokenizedExample(prompt: [first[0]], completion: Array(rest.suffix(29)),
                                         trained: Array(restFlags.suffix(29))))
    XCTAssertEqual(end.targets.suffix(14), ArraySlice(rest.suffix(14)), "the last turn and EOS are targets")
    XCTAssertEqual(end.trainedTokenCount, 14)
    XCTAssertEqual(b.truncatedCount, 1)
  }

  /// Qwen3's template drops the empty reasoning block of earlier turns once a later user turn
  /// follows: the renderings do not extend, which is an error naming the line and the turn.
  func testTemplateThatRewritesEarlierTurnsIsAnErrorWithTheLine() throws {
    let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("LomoTokenizerTests/Fixtures/chat_templates/qwen3.jinja")
    let qwen3 = try ChatTemplate(template: String(contentsOf: file, encoding: .utf8), bosToken: "", eosToken: "<|im_end|>")
    let record = #"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "user", "content": "ok?"}, {"role": "assistant", "content": "ya"}]}"#
    let path = try writeJSONL([#"{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}"#, record])
    let data = try Dataset.load(path: path)
    var b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 512, chatTemplate: .success(qwen3))
    XCTAssertEqual(try data.trainingExamples(&b).count, 2, "the last turn alone is fine")
    b.trainOn = .all
    XCTAssertThrowsError(try data.trainingExamples(&b)) {
      guard let e = $0 as? DatasetError else { return XCTFail("\($0)") }
      XCTAssertEqual(e.line, 2)
      XCTAssertEqual(e.problem, .invalidField("record", ExampleError.chatTemplateRewritesTurn(index: 1).description))
      XCTAssertTrue(e.description.contains("messages[1]"), e.description)
    }
  }

  /// A different `--train-on` that changes targets changes the data fingerprint `--resume`
  /// compares; one that changes none (single-turn data) leaves it.
  func testTrainOnIsInTheDataFingerprint() throws {
    var b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 512, chatTemplate: try chatML())
    let single = try b.trainingExample(.chat(Array(twoTurns.prefix(2))))
    let multi = try b.trainingExample(.chat(twoTurns))
    b.trainOn = .all
    XCTAssertEqual(TrainingState.fingerprint([single]), TrainingState.fingerprint([try b.trainingExample(.chat(Array(twoTurns.prefix(2))))]))
    XCTAssertNotEqual(TrainingState.fingerprint([multi]), TrainingState.fingerprint([try b.trainingExample(.chat(twoTurns))]))
  }
}
