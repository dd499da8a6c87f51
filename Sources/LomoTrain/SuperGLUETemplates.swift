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
  static func records(_ f: JSONFields, task: SuperGLUETask) throws -> [ChoiceRecord] {
    switch task {
    case .boolq:
      try f.only(["question", "passage", "idx", "label"])
      let prompt = brown(["\(try f.string("passage")) \(try f.string("question"))"])
      return [ChoiceRecord(prompt: prompt, choices: noYes, label: try f.bool("label") ? 1 : 0)]
    case .rte:
      try f.only(["premise", "hypothesis", "idx", "label"])
      let prompt = brown([try f.string("premise"),
                          "Does this mean that \"\(try f.string("hypothesis"))\" is true? Yes or No?"])
      let label = try labelIndex(f, ["entailment", "not_entailment"])
      return [ChoiceRecord(prompt: prompt, choices: ["Yes", "No"], label: label)]
    case .cb:
      try f.only(["premise", "hypothesis", "idx", "label"])
      let prompt = brown([try f.string("premise"),
                          "Does this mean that \"\(try f.string("hypothesis"))\" is true? Yes, No, or Maybe?"])
      let label = try labelIndex(f, ["entailment", "contradiction", "neutral"])
      return [ChoiceRecord(prompt: prompt, choices: ["Yes", "No", "Maybe"], label: label)]
    case .wic:
      try f.only(["word", "sentence1", "sentence2", "idx", "label", "start1", "start2", "end1", "end2", "version"])
      let prompt = brown([
        "Does the word \"\(try f.string("word"))\" have the same meaning in these two sentences? Yes, No?",
        try f.string("sentence1"), try f.string("sentence2")])
      return [ChoiceRecord(prompt: prompt, choices: noYes, label: try f.bool("label") ? 1 : 0)]
    case .wsc:
      try f.only(["text", "target", "idx", "label"])
      let target = try f.object("target")
      try target.only(["span1_index", "span2_index", "span1_text", "span2_text"])
      let prompt = brown([
        try f.string("text"),
        "In the previous sentence, does the pronoun \"\(try target.string("span2_text"))\" refer to \"\(try target.string("span1_text"))\"? Yes or No?"])
      return [ChoiceRecord(prompt: prompt, choices: noYes, label: try f.bool("label") ? 1 : 0)]
    case .copa:
      try f.only(["premise", "choice1", "choice2", "question", "idx", "label"])
      let connective: String
      switch try f.string("question") {
      case "effect": connective = " so "
      case "cause": connective = " because "
      case let q: throw RecordProblem(.invalidField("question", "'\(q)' is not cause or effect"))
      }
      let label = try f.int("label")
      guard label == 0 || label == 1 else { throw RecordProblem(.invalidField("label", "\(label) is not 0 or 1")) }
      return [ChoiceRecord(prompt: try f.string("premise") + connective,
                           choices: [try f.string("choice1"), try f.string("choice2")], label: label)]
    case .multirc:
      try f.only(["idx", "version", "passage"])
      let passage = try f.object("passage")
      try passage.only(["text", "questions"])
      let paragraph = try passage.string("text")
      let passageID = f.has("idx") ? String(try f.int("idx")) : "?"
      var out: [ChoiceRecord] = []
      for (qi, qv) in try passage.array("questions").enumerated() {
        let q = try JSONFields(qv, path: "passage.questions[\(qi)]")
        try q.only(["question", "answers", "idx"])
        let question = try q.string("question")
        let group = "\(passageID)/\(q.has("idx") ? String(try q.int("idx")) : String(qi))"
        for (ai, av) in try q.array("answers").enumerated() {
          let a = try JSONFields(av, path: "\(q.path).answers[\(ai)]")
          try a.only(["text", "idx", "label"])
          let prompt = brown([paragraph, "Question: \(question)",
                              "I found this answer \"\(try a.string("text"))\". Is that correct? Yes or No?"])
          out.append(ChoiceRecord(prompt: prompt, choices: noYes, label: try a.bool("label") ? 1 : 0, group: group))
        }
      }
      return out
    case .record:
      try f.only(["idx", "source", "passage", "qas"])
      let passage = try f.object("passage")
      try passage.only(["text", "entities"])
      let text = try passage.string("text")
      let characters = Array(text)
      var entities: [String] = []
      for (ei, ev) in try passage.array("entities").enumerated() {
        let e = try JSONFields(ev, path: "passage.entities[\(ei)]")
        try e.only(["start", "end"])
        let start = try e.int("start"), end = try e.int("end")  // end is inclusive
        guard 0 <= start, start <= end, end < characters.count else {
          throw RecordProblem(.invalidField(e.path, "span \(start)...\(end) is outside the passage"))
        }
        let entity = String(characters[start...end])
        if !entities.contains(entity) { entities.append(entity) }
      }
      if entities.isEmpty { throw RecordProblem(.invalidField("passage.entities", "no entities")) }
      let shown = text.replacingOccurrences(of: "@highlight\n", with: "- ")
      var out: [ChoiceRecord] = []
      for (qi, qv) in try f.array("qas").enumerated() {
        let q = try JSONFields(qv, path: "qas[\(qi)]")
        try q.only(["query", "answers", "idx"])
        var answers: Set<String> = []
        for (ai, av) in try q.array("answers").enumerated() {
          let a = try JSONFields(av, path: "\(q.path).answers[\(ai)]")
          try a.only(["start", "end", "text"])
          answers.insert(try a.string("text"))
        }
        guard let label = entities.firstIndex(where: answers.contains) else {
          throw RecordProblem(.invalidField(q.path, "no answer is one of the passage's entities"))
        }
        let prompt = brown([shown, try q.string("query"), "Question: What is the \"@placeholder\"?"])
        out.append(ChoiceRecord(prompt: prompt, choices: entities, label: label,
                                group: q.has("idx") ? String(try q.int("idx")) : nil))
      }
      return out
    }
  }

  static func labelIndex(_ f: JSONFields, _ names: [String]) throws -> Int {
    let v = try f.string("label")
    guard let i = names.firstIndex(of: v) else {
      throw RecordProblem(.invalidField("label", "'\(v)' is not one of \(names.joined(separator: ", "))"))
    }
    return i
  }
}
