import LomoCore

/// The LOMO paper's SuperGLUE prompts (see PAPER.md): the "brown" format for every task but
/// COPA — the task's parts joined by newlines, then a newline and `Answer: ` — and COPA's
/// "natural" format, `{premise} so ` / `{premise} because `. Choices are in label order.
///
/// CB is not in the paper; lomo uses RTE's template with a third answer:
/// `Does this mean that "{hypothesis}" is true? Yes, No, or Maybe?`, choices Yes (entailment),
/// No (contradiction), Maybe (neutral).
public enum SuperGLUETemplates {
  /// Parts joined by "\n", then "\nAnswer: ".
  public static func brown(_ parts: [String]) -> String {
    parts.joined(separator: "\n") + "\nAnswer: "
  }

  public static let noYes = ["No", "Yes"]

  /// The choice records of one line of a SuperGLUE task file (one per MultiRC answer option,
  /// one per ReCoRD query).
  static func records(_ f: JSONField, task: SuperGLUETask) throws -> [ChoiceRecord] {
    switch task {
    case .boolq:
      try f.only(["question", "passage", "idx", "label"])
      let prompt = brown(["\(try f["passage"].string()) \(try f["question"].string())"])
      return [ChoiceRecord(prompt: prompt, choices: noYes, label: try flag(f["label"]) ? 1 : 0)]
    case .rte:
      try f.only(["premise", "hypothesis", "idx", "label"])
      let prompt = brown([try f["premise"].string(),
                          "Does this mean that \"\(try f["hypothesis"].string())\" is true? Yes or No?"])
      let label = try labelIndex(f, ["entailment", "not_entailment"])
      return [ChoiceRecord(prompt: prompt, choices: ["Yes", "No"], label: label)]
    case .cb:
      try f.only(["premise", "hypothesis", "idx", "label"])
      let prompt = brown([try f["premise"].string(),
                          "Does this mean that \"\(try f["hypothesis"].string())\" is true? Yes, No, or Maybe?"])
      let label = try labelIndex(f, ["entailment", "contradiction", "neutral"])
      return [ChoiceRecord(prompt: prompt, choices: ["Yes", "No", "Maybe"], label: label)]
    case .wic:
      try f.only(["word", "sentence1", "sentence2", "idx", "label", "start1", "start2", "end1", "end2", "version"])
      let prompt = brown([
        "Does the word \"\(try f["word"].string())\" have the same meaning in these two sentences? Yes, No?",
        try f["sentence1"].string(), try f["sentence2"].string()])
      return [ChoiceRecord(prompt: prompt, choices: noYes, label: try flag(f["label"]) ? 1 : 0)]
    case .wsc:
      try f.only(["text", "target", "idx", "label"])
      let target = f["target"]
      try target.only(["span1_index", "span2_index", "span1_text", "span2_text"])
      let prompt = brown([
        try f["text"].string(),
        "In the previous sentence, does the pronoun \"\(try target["span2_text"].string())\" refer to \"\(try target["span1_text"].string())\"? Yes or No?"])
      return [ChoiceRecord(prompt: prompt, choices: noYes, label: try flag(f["label"]) ? 1 : 0)]
    case .copa:
      try f.only(["premise", "choice1", "choice2", "question", "idx", "label"])
      let connective: String
      switch try f["question"].string() {
      case "effect": connective = " so "
      case "cause": connective = " because "
      case let q: throw RecordProblem(.invalidField("question", "'\(q)' is not cause or effect"))
      }
      let label = try f["label"].integer()
      guard label == 0 || label == 1 else { throw RecordProblem(.invalidField("label", "\(label) is not 0 or 1")) }
      return [ChoiceRecord(prompt: try f["premise"].string() + connective,
                           choices: [try f["choice1"].string(), try f["choice2"].string()], label: label)]
    case .multirc:
      try f.only(["idx", "version", "passage"])
      let passage = f["passage"]
      try passage.only(["text", "questions"])
      let paragraph = try passage["text"].string()
      let passageID = f["idx"].isPresent ? String(try f["idx"].integer()) : "?"
      var out: [ChoiceRecord] = []
      for (qi, q) in try passage["questions"].array().enumerated() {
        try q.only(["question", "answers", "idx"])
        let question = try q["question"].string()
        let group = "\(passageID)/\(q["idx"].isPresent ? String(try q["idx"].integer()) : String(qi))"
        for a in try q["answers"].array() {
          try a.only(["text", "idx", "label"])
          let prompt = brown([paragraph, "Question: \(question)",
                              "I found this answer \"\(try a["text"].string())\". Is that correct? Yes or No?"])
          out.append(ChoiceRecord(prompt: prompt, choices: noYes, label: try flag(a["label"]) ? 1 : 0, group: group))
        }
      }
      return out
    case .record:
      try f.only(["idx", "source", "passage", "qas"])
      let passage = f["passage"]
      try passage.only(["text", "entities"])
      let text = try passage["text"].string()
      let characters = Array(text)
      var entities: [String] = []
      for e in try passage["entities"].array() {
        try e.only(["start", "end"])
        let start = try e["start"].integer(), end = try e["end"].integer()  // end is inclusive
        guard 0 <= start, start <= end, end < characters.count else {
          throw RecordProblem(.invalidField(e.path, "span \(start)...\(end) is outside the passage"))
        }
        let entity = String(characters[start...end])
        if !entities.contains(entity) { entities.append(entity) }
      }
      if entities.isEmpty { throw RecordProblem(.invalidField("passage.entities", "no entities")) }
      let shown = text.replacingOccurrences(of: "@highlight\n", with: "- ")
      var out: [ChoiceRecord] = []
      for q in try f["qas"].array() {
        try q.only(["query", "answers", "idx"])
        var answers: Set<String> = []
        for a in try q["answers"].array() {
          try a.only(["start", "end", "text"])
          answers.insert(try a["text"].string())
        }
        guard let label = entities.firstIndex(where: answers.contains) else {
          throw RecordProblem(.invalidField(q.path, "no answer is one of the passage's entities"))
        }
        let prompt = brown([shown, try q["query"].string(), "Question: What is the \"@placeholder\"?"])
        out.append(ChoiceRecord(prompt: prompt, choices: entities, label: label,
                                group: q["idx"].isPresent ? String(try q["idx"].integer()) : nil))
      }
      return out
    }
  }

  /// A SuperGLUE boolean label: true/false, or 0/1 as some copies of the files write it.
  static func flag(_ f: JSONField) throws -> Bool {
    switch f.value {
    case .bool(let b)?: return b
    case .number(let n)? where n.integer(Int.self) == 0 || n.integer(Int.self) == 1: return n.integer(Int.self) == 1
    case let v? where f.isPresent: throw RecordProblem(.invalidField(f.path, "expected true/false or 0/1, found \(v.typeName)"))
    default: return try f.bool()  // missing
    }
  }

  static func labelIndex(_ f: JSONField, _ names: [String]) throws -> Int {
    let v = try f["label"].string()
    guard let i = names.firstIndex(of: v) else {
      throw RecordProblem(.invalidField("label", "'\(v)' is not one of \(names.joined(separator: ", "))"))
    }
    return i
  }
}
