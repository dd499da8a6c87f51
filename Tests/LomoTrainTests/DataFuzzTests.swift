import Foundation
import LomoCore
import LomoModel
import LomoTestSupport
import LomoTrain
import XCTest

/// Mutated JSONL data of every format: each file either loads into examples that the tiny model
/// runs (every id and target within its vocabulary) or is refused with a `DatasetError` /
/// `ExampleError`; nothing traps, hangs or echoes binary. Seeded and bounded in time.
final class DataFuzzTests: XCTestCase {
  /// One valid line per format and SuperGLUE shape.
  static let seeds = [
    #"{"prompt": "Is 3 odd?", "completion": " yes"}"#,
    #"{"prompt": "2+2=", "choices": [" 4", " 5", " 22"], "label": 0}"#,
    #"{"text": "plain language modelling text"}"#,
    #"{"input_ids": [1, 17, 33, 200], "labels": [-100, 17, 33, 200]}"#,
    #"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}"#,
    #"{"premise": "The man fell.", "choice1": "He slipped.", "choice2": "He sang.", "question": "cause", "label": 0, "idx": 3}"#,
    #"{"question": "is it?", "passage": "It is.", "label": true, "idx": 0}"#,
    #"{"word": "bank", "sentence1": "a river bank", "sentence2": "a bank loan", "start1": 8, "end1": 12, "start2": 2, "end2": 6, "label": false, "idx": 1}"#,
    #"{"premise": "A dog runs.", "hypothesis": "An animal moves.", "label": "entailment", "idx": 2}"#,
  ]

  /// JSON fragments that exercise the parser's and the loaders' limits.
  static let splices: [String] = [
    "{", "}", "[", "]", "\"", ",", ":", "\\", "\\u", "\\ud800", "\u{0}", "-", "1e999", "-1e999",
    "99999999999999999999", "-9223372036854775809", "0.5", "null", "true", "[[[[[[[[", "\n", "-100",
    "\"label\": 7", "\"labels\": [1, 99999999]", "\"input_ids\": []", "\u{FEFF}", "é",
  ]

  func testMutatedDataLoadsOrFailsWithATypedError() throws {
    let directory = try temporaryDirectory("data-fuzz")
    let model = LlamaModel(parameters: try TestModels.tinyLlama())
    var ran = 0
    let (rounds, loaded) = fuzz("JSONL data", seed: 20261202, iterations: 4000, seconds: 5,
                                accepted: { $0 is DatasetError || $0 is ExampleError }) { m, round in
      var bytes = Array(Self.seeds[m.below(Self.seeds.count)].utf8)
      for _ in 0...m.below(3) { bytes = mutate(bytes, &m) }
      let path = try directory.write(bytes + Array("\n".utf8) + bytes, "case-\(round % 8).jsonl")
      let dataset = try Dataset.load(path: path)
      var builder = ExampleBuilder(encoder: ByteEncoder(), maxSequenceLength: 48, vocabularySize: model.config.vocabSize)
      let examples = try dataset.isMultipleChoice
        ? dataset.evaluationItems(&builder).map { TokenizedExample(prompt: $0.prompt, completion: $0.candidates[$0.label]) }
        : dataset.trainingExamples(&builder)
      guard !examples.isEmpty else { return }
      let batch = Batch(examples, padToken: 0)
      let loss = model.loss(tokens: batch.tokens, targets: batch.targets, batch: batch.batch, time: batch.time)
      XCTAssertTrue(loss.meanLoss.isFinite, "round \(round): loss \(loss.meanLoss)")
      ran += 1
    }
    XCTAssertGreaterThan(rounds, 200)
    XCTAssertGreaterThan(loaded, 20, "the mutations should leave some files valid")
    XCTAssertLessThan(loaded, rounds, "the mutations should break some files")
    XCTAssertGreaterThan(ran, 10)
  }

  /// A byte-level mutation (`Mutator`), a JSON fragment spliced in, or a number grown (ids and
  /// labels beyond the vocabulary).
  func mutate(_ bytes: [UInt8], _ m: inout Mutator) -> [UInt8] {
    guard !bytes.isEmpty else { return bytes }
    var out = bytes
    switch m.below(3) {
    case 0:
      return m.mutate(bytes, region: 0..<bytes.count)
    case 1:
      out.insert(contentsOf: Array(Self.splices[m.below(Self.splices.count)].utf8), at: m.below(out.count))
    default:
      let digits = out.indices.filter { (0x30...0x39).contains(out[$0]) }
      if !digits.isEmpty { out.insert(contentsOf: Array("\(m.below(100_000))".utf8), at: digits[m.below(digits.count)]) }
    }
    return out
  }
}
