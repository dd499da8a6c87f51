import Foundation
import LomoTokenizer

/// Reads training examples from JSONL, one object per line, in either of two shapes:
///
/// - `{"prompt": "...", "completion": "..."}`: loss on the completion tokens plus EOS;
/// - `{"input_ids": [...], "labels": [...]}` (labels optional, -100 ignored): pre-tokenised,
///   labels aligned with input_ids as in transformers (shifted here: targets[t] = labels[t+1]).
///
/// Blank lines are skipped. A malformed line or an unknown field names the file and line.
/// Sequences longer than `maxSeqLen` keep their last `maxSeqLen` positions (the completion
/// survives, the start of the prompt goes) and are counted in `truncated`.
public struct PromptCompletionLoader {
  public let tokenizer: Tokenizer?
  public let maxSeqLen: Int
  public private(set) var truncated = 0

  public init(tokenizer: Tokenizer?, maxSeqLen: Int) {
    self.tokenizer = tokenizer
    self.maxSeqLen = maxSeqLen
  }

  public mutating func load(path: String) throws -> [TokenizedExample] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TrainingError.io(path: path, problem: "cannot read the data file")
    }
    var examples: [TokenizedExample] = []
    var lineNumber = 0
    for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
      lineNumber += 1
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
      do {
        examples.append(try parse(Data(line)))
      } catch let problem as LineProblem {
        throw TrainingError.data(path: path, line: lineNumber, problem: problem.text)
      }
    }
    return examples
  }

  struct LineProblem: Error { let text: String }

  mutating func parse(_ line: Data) throws -> TokenizedExample {
    guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
      throw LineProblem(text: "not a JSON object")
    }
    let keys = Set(object.keys)
    let example: TokenizedExample
    if keys == ["prompt", "completion"] {
      guard let prompt = object["prompt"] as? String, let completion = object["completion"] as? String
      else { throw LineProblem(text: "prompt and completion must be strings") }
      guard let tokenizer else { throw LineProblem(text: "text examples need a tokenizer") }
      var answer = tokenizer.encode(completion, addSpecial: false, parseSpecial: false)
      if let eos = tokenizer.eosID { answer.append(eos) }
      let question = tokenizer.encode(prompt, addSpecial: true, parseSpecial: false)
      guard !question.isEmpty, !answer.isEmpty else { throw LineProblem(text: "empty prompt or completion") }
      example = TokenizedExample(prompt: question, completion: answer)
    } else if keys == ["input_ids"] || keys == ["input_ids", "labels"] {
      let ids = try integers(object["input_ids"], "input_ids")
      let labels = try object["labels"].map { try integers($0, "labels") } ?? ids
      guard ids.count >= 2 else { throw LineProblem(text: "input_ids needs at least 2 tokens") }
      guard labels.count == ids.count else { throw LineProblem(text: "labels and input_ids differ in length") }
      if let v = tokenizer?.vocabSize, let bad = (ids + labels).first(where: { $0 >= v }) {
        throw LineProblem(text: "token \(bad) outside the vocabulary of \(v)")
      }
      example = TokenizedExample(
        tokens: Array(ids.dropLast()),
        targets: labels.dropFirst().map { $0 < 0 ? TokenizedExample.ignored : $0 })
    } else {
      let unknown = keys.subtracting(["prompt", "completion", "input_ids", "labels"]).sorted()
      throw LineProblem(text: unknown.isEmpty
        ? "expected {\"prompt\", \"completion\"} or {\"input_ids\"[, \"labels\"]}, got \(keys.sorted())"
        : "unknown field \(unknown.map { "\"\($0)\"" }.joined(separator: ", "))")
    }
    guard example.trainedTokenCount > 0 else { throw LineProblem(text: "no token to train on") }
    if example.tokens.count > maxSeqLen {
      truncated += 1
      return TokenizedExample(tokens: Array(example.tokens.suffix(maxSeqLen)),
                              targets: Array(example.targets.suffix(maxSeqLen)))
    }
    return example
  }

  func integers(_ value: Any?, _ field: String) throws -> [Int32] {
    guard let array = value as? [Any] else { throw LineProblem(text: "\(field) must be an array of integers") }
    return try array.map {
      guard let i = $0 as? Int, let v = Int32(exactly: i), v >= -100
      else { throw LineProblem(text: "\(field) must hold integers (-100 or token ids)") }
      return v
    }
  }
}
