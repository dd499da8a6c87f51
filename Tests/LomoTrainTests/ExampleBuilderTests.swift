import LomoTokenizer
import LomoTrain
import XCTest

/// Loss masks and truncation with a byte-level stand-in tokenizer (BOS 1, EOS 2).
final class ExampleBuilderTests: XCTestCase {
  let ab: [Int32] = [97, 98]  // "ab"

  func testChoiceTrainsOnTheGoldAnswerAndEOSOnly() throws {
    var b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 64)
    let e = try b.trainingExample(.choice(ChoiceRecord(prompt: "ab", choices: ["x", "yz"], label: 1)))
    // Sequence: BOS a b y z EOS; tokens drop the last, targets the first.
    XCTAssertEqual(e.tokens, [1, 97, 98, 121, 122])
    XCTAssertEqual(e.targets, [-100, -100, 121, 122, 2])
    XCTAssertEqual(b.truncatedCount, 0)
  }

  func testCompletionTextAndTokens() throws {
    var b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 64, vocabularySize: 200)
    let c = try b.trainingExample(.completion(prompt: "a", completion: "b"))
    XCTAssertEqual(c.tokens, [1, 97, 98])
    XCTAssertEqual(c.targets, [-100, 98, 2])
    let t = try b.trainingExample(.text("ab"))
    XCTAssertEqual(t.tokens, [1, 97, 98])
    XCTAssertEqual(t.targets, [97, 98, 2], "plain text trains on every token and EOS")
    let ids = try b.trainingExample(.tokens(inputIDs: [5, 6, 7, 8], labels: [-100, -100, 7, 8]))
    XCTAssertEqual(ids.tokens, [5, 6, 7])
    XCTAssertEqual(ids.targets, [-100, 7, 8])
    let all = try b.trainingExample(.tokens(inputIDs: [5, 6, 7], labels: nil))
    XCTAssertEqual(all.targets, [6, 7])
    XCTAssertThrowsError(try b.trainingExample(.tokens(inputIDs: [5, 250], labels: nil))) {
      XCTAssertEqual($0 as? ExampleError,
                     .tokenOutOfRange(field: "input_ids", index: 1, token: 250, vocabularySize: 200))
    }
  }

  func testTruncationKeepsTheAnswerEndAndBOS() throws {
    var b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 5)
    // BOS a b c d e f + x EOS = 9 ids > 6: keep BOS, the prompt's end, the answer.
    let e = try b.trainingExample(.completion(prompt: "abcdef", completion: "x"))
    XCTAssertEqual(e.tokens, [1, 100, 101, 102, 120])
    XCTAssertEqual(e.targets, [-100, -100, -100, 120, 2])
    XCTAssertEqual(b.truncatedCount, 1)
    // An answer longer than the limit keeps its end after BOS.
    let long = try b.trainingExample(.completion(prompt: "a", completion: "uvwxyz"))
    XCTAssertEqual(long.tokens, [1, 119, 120, 121, 122])
    XCTAssertEqual(long.targets, [119, 120, 121, 122, 2])
    XCTAssertEqual(b.truncatedCount, 2)
    // Short enough: untouched, not counted.
    _ = try b.trainingExample(.completion(prompt: "a", completion: "b"))
    XCTAssertEqual(b.truncatedCount, 2)
    // Pre-tokenised: the last maxSequenceLength + 1 ids stay, labels alike.
    let ids = try b.trainingExample(.tokens(inputIDs: [1, 2, 3, 4, 5, 6, 7, 8, 9], labels: nil))
    XCTAssertEqual(ids, TokenizedExample(tokens: [4, 5, 6, 7, 8], targets: [5, 6, 7, 8, 9]))
    XCTAssertEqual(b.truncatedCount, 3)
  }

  func testEvaluationItemCandidatesAndPromptTruncation() throws {
    var b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 6)
    let item = try b.evaluationItem(.choice(ChoiceRecord(prompt: "abcdef", choices: ["x", "yz"], label: 0, group: "g")))
    // Longest candidate "yz"+EOS = 3 ids; room for 7 - 3 = 4 prompt ids: BOS d e f.
    XCTAssertEqual(item, MultipleChoiceItem(prompt: [1, 100, 101, 102], candidates: [[120, 2], [121, 122, 2]],
                                            label: 0, group: "g"))
    XCTAssertEqual(b.truncatedCount, 1)
    XCTAssertNil(try b.evaluationItem(.text("x")))
  }

  func testChatTrainsOnTheLastAssistantTurn() throws {
    let template = try ChatTemplate(template: Self.chatML, bosToken: "", eosToken: "<|im_end|>")
    var b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 512, chatTemplate: .success(template))
    let messages = [ChatMessage(role: "user", content: "hi"), ChatMessage(role: "assistant", content: "yo")]
    let e = try b.trainingExample(.chat(messages))
    let prompt = try template.render([messages[0]], addGenerationPrompt: true)
    let full = try template.render(messages, addGenerationPrompt: false)
    XCTAssertEqual(e.tokens.first, Int32(UInt8(ascii: "<")), "template output gets no tokenizer BOS")
    XCTAssertTrue(full.hasPrefix(prompt))
    let answer = Array(full.dropFirst(prompt.count).utf8).map { Int32($0) } + [2]
    let trained = e.targets.filter { $0 >= 0 }
    XCTAssertEqual(trained, answer)
    // targets[i] is token i + 1: the first prompt.count - 1 targets are prompt tokens.
    XCTAssertEqual(e.targets.prefix(prompt.utf8.count - 1).filter { $0 >= 0 }, [], "the prompt is not trained")
  }

  static let chatML = """
    {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}\
    {% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
    """

  func testChatTemplateProblemsAreRecordErrors() throws {
    let messages = [ChatMessage(role: "user", content: "hi"), ChatMessage(role: "assistant", content: "yo")]
    let broken = ChatTemplate.load("{% if %}", source: "model/tokenizer_config.json: chat_template", bosToken: "", eosToken: "")
    var b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 64, chatTemplate: broken)
    XCTAssertNoThrow(try b.trainingExample(.text("plain text needs no template")))
    XCTAssertThrowsError(try b.trainingExample(.chat(messages))) {
      guard case .unusableChatTemplate(let why)? = $0 as? ExampleError else { return XCTFail("\($0)") }
      XCTAssertTrue(why.hasPrefix("model/tokenizer_config.json: chat_template: "), why)
      XCTAssertTrue(why.contains("line 1"), why)
    }
    let strict = try ChatTemplate(template: "{{ raise_exception('only users here') }}", bosToken: "", eosToken: "")
    b = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 64, chatTemplate: .success(strict))
    XCTAssertThrowsError(try b.trainingExample(.chat(messages))) {
      XCTAssertEqual($0 as? ExampleError, .chatTemplateFailed("line 1: the template raised an exception: only users here"))
    }
  }
}
