import LomoTrain
import XCTest

/// Each task's prompt against a hand-written expected string (PAPER.md's templates).
final class SuperGLUETemplateTests: XCTestCase {
  func one(_ line: String, task: SuperGLUETask? = nil) throws -> [ChoiceRecord] {
    let d = try Dataset.load(path: try writeJSONL([line]), task: task)
    XCTAssertEqual(d.format, .superglue)
    return choices(d)
  }

  func testBoolQ() throws {
    let r = try one(#"{"question": "is the sky blue", "passage": "Sky -- The sky is blue.", "idx": 3, "label": true}"#)
    XCTAssertEqual(r, [ChoiceRecord(prompt: "Sky -- The sky is blue. is the sky blue\nAnswer: ", choices: ["No", "Yes"], label: 1)])
  }

  func testRTE() throws {
    let r = try one(#"{"premise": "A cat sat.", "hypothesis": "An animal sat.", "label": "not_entailment", "idx": 0}"#, task: .rte)
    XCTAssertEqual(r, [ChoiceRecord(prompt: "A cat sat.\nDoes this mean that \"An animal sat.\" is true? Yes or No?\nAnswer: ",
                                    choices: ["Yes", "No"], label: 1)])
  }

  func testCB() throws {
    let r = try one(#"{"premise": "P.", "hypothesis": "H", "label": "neutral", "idx": 1}"#, task: .cb)
    XCTAssertEqual(r, [ChoiceRecord(prompt: "P.\nDoes this mean that \"H\" is true? Yes, No, or Maybe?\nAnswer: ",
                                    choices: ["Yes", "No", "Maybe"], label: 2)])
  }

  func testWiC() throws {
    let r = try one(#"{"word": "class", "sentence1": "S one.", "sentence2": "S two.", "idx": 0, "label": false, "start1": 1, "start2": 2, "end1": 3, "end2": 4, "version": 1.1}"#)
    XCTAssertEqual(r, [ChoiceRecord(
      prompt: "Does the word \"class\" have the same meaning in these two sentences? Yes, No?\nS one.\nS two.\nAnswer: ",
      choices: ["No", "Yes"], label: 0)])
  }

  func testWSC() throws {
    let r = try one(#"{"text": "Mark told Pete he won.", "target": {"span2_index": 3, "span1_index": 0, "span1_text": "Mark", "span2_text": "he"}, "idx": 0, "label": true}"#)
    XCTAssertEqual(r, [ChoiceRecord(
      prompt: "Mark told Pete he won.\nIn the previous sentence, does the pronoun \"he\" refer to \"Mark\"? Yes or No?\nAnswer: ",
      choices: ["No", "Yes"], label: 1)])
  }

  func testCOPAEffectAndCause() throws {
    let effect = try one(#"{"premise": "The man turned on the faucet.", "choice1": "The toilet filled with water.", "choice2": "Water flowed from the spout.", "question": "effect", "label": 1, "idx": 0}"#)
    XCTAssertEqual(effect, [ChoiceRecord(prompt: "The man turned on the faucet. so ",
                                         choices: ["The toilet filled with water.", "Water flowed from the spout."], label: 1)])
    let cause = try one(#"{"premise": "My body cast a shadow.", "choice1": "The sun was rising.", "choice2": "The grass was cut.", "question": "cause", "label": 0, "idx": 1}"#)
    XCTAssertEqual(cause.first?.prompt, "My body cast a shadow. because ")
  }

  func testMultiRCIsOneExamplePerAnswerGroupedByQuestion() throws {
    let r = try one(#"{"idx": 4, "version": 1.1, "passage": {"text": "Para.", "questions": [{"question": "Why?", "idx": 7, "answers": [{"text": "Because", "idx": 0, "label": 1}, {"text": "No idea", "idx": 1, "label": 0}]}, {"question": "Who?", "idx": 8, "answers": [{"text": "Me", "idx": 2, "label": 0}]}]}}"#)
    let p = { (q: String, a: String) in "Para.\nQuestion: \(q)\nI found this answer \"\(a)\". Is that correct? Yes or No?\nAnswer: " }
    XCTAssertEqual(r, [
      ChoiceRecord(prompt: p("Why?", "Because"), choices: ["No", "Yes"], label: 1, group: "4/7"),
      ChoiceRecord(prompt: p("Why?", "No idea"), choices: ["No", "Yes"], label: 0, group: "4/7"),
      ChoiceRecord(prompt: p("Who?", "Me"), choices: ["No", "Yes"], label: 0, group: "4/8"),
    ])
  }

  func testReCoRDEntitiesAreTheCandidates() throws {
    // "Anna met Bob.@highlight\nBob left": entities Anna 0...3, Bob 9...11, Bob 25...27 (the same text).
    let r = try one(#"{"idx": 0, "source": "x", "passage": {"text": "Anna met Bob.\n@highlight\nBob left", "entities": [{"start": 0, "end": 3}, {"start": 9, "end": 11}, {"start": 25, "end": 27}]}, "qas": [{"query": "@placeholder left", "idx": 5, "answers": [{"start": 25, "end": 27, "text": "Bob"}]}]}"#)
    XCTAssertEqual(r, [ChoiceRecord(
      prompt: "Anna met Bob.\n- Bob left\n@placeholder left\nQuestion: What is the \"@placeholder\"?\nAnswer: ",
      choices: ["Anna", "Bob"], label: 1, group: "5")])
  }

  func testRealFilesFirstLines() throws {
    guard let rte = superGLUEFile("RTE"), let copa = superGLUEFile("COPA") else {
      throw XCTSkip("../shared/data/superglue is absent")
    }
    let r = choices(try Dataset.load(path: rte, task: .rte))
    XCTAssertEqual(r.count, 277)
    XCTAssertEqual(r[0], ChoiceRecord(
      prompt: "Dana Reeve, the widow of the actor Christopher Reeve, has died of lung cancer at age 44, according to the Christopher Reeve Foundation.\nDoes this mean that \"Christopher Reeve had an accident.\" is true? Yes or No?\nAnswer: ",
      choices: ["Yes", "No"], label: 1))
    let c = choices(try Dataset.load(path: copa))
    XCTAssertEqual(c.count, 100)
    XCTAssertEqual(c[2], ChoiceRecord(prompt: "The woman retired. so ",
                                      choices: ["She received her pension.", "She paid off her mortgage."], label: 0))
    if let multirc = superGLUEFile("MultiRC") {
      let m = choices(try Dataset.load(path: multirc, task: .multirc))
      XCTAssertGreaterThan(m.count, 83)
      XCTAssertTrue(m.allSatisfy { $0.group != nil && $0.choices == ["No", "Yes"] })
    }
  }
}
