import Foundation
import LomoModel
import LomoTrain
import LomoTestSupport
import XCTest

/// The `lomo` executable as users run it: exit statuses, messages on stderr, a short training
/// run on the default model, and Ctrl-C during training followed by a resume.
final class ProcessTests: XCTestCase {
  var scratch: TemporaryDirectory!
  var directory: URL { scratch.url }

  override func setUpWithError() throws {
    scratch = try temporaryDirectory("cli-process")
    guard FileManager.default.isExecutableFile(atPath: lomoExecutable.path) else {
      throw XCTSkip("no lomo executable at \(lomoExecutable.path); build it first (swift build)")
    }
  }

  /// Runs `lomo arguments`; `whileRunning` may signal the process.
  func lomo(_ arguments: [String], environment: [String: String] = [:],
            whileRunning: ((Process, FileHandle) -> Void)? = nil) throws -> Outcome {
    try launch(lomoExecutable, arguments, in: directory, environment: environment, whileRunning: whileRunning)
  }

  func testExitStatuses() throws {
    let help = try lomo(["train", "--help"])
    XCTAssertEqual(help.status, 0)
    XCTAssertTrue(help.stdout.contains("USAGE: lomo train"))

    let usage = try lomo(["train", "--output", "o"])
    XCTAssertEqual(usage.status, 64)
    XCTAssertTrue(usage.stderr.contains("Missing expected argument '--data <data>'"), usage.stderr)

    let badModel = try lomo(["eval", "--model", "no-such-model.gguf", "--data", "d.jsonl"])
    XCTAssertEqual(badModel.status, 1, badModel.stderr)
    XCTAssertTrue(badModel.stderr.contains("Error:"), badModel.stderr)

    let noData = try lomo(["train", "--data", "missing.jsonl", "--output", "o", "--model", "no-such.gguf"])
    XCTAssertEqual(noData.status, 1)
    XCTAssertTrue(noData.stderr.contains("no-such.gguf"), noData.stderr)

    let config = try lomo(["train", "--config", "absent.yaml"])
    XCTAssertEqual(config.status, 1)
    XCTAssertTrue(config.stderr.contains("absent.yaml: cannot read the config file"), config.stderr)
  }

  /// Pre-tokenised sequences for the default model: `count` lines of 12 tokens.
  func writeData(count: Int) throws -> String {
    let lines = (0..<count).map { i in
      "{\"input_ids\": [" + (0..<12).map { "\(100 + (i * 7 + $0 * 13) % 500)" }.joined(separator: ", ") + "]}"
    }
    return try scratch.write(lines.joined(separator: "\n"), "train.jsonl")
  }

  func testSequenceLengthBeyondTheContextIsRefused() throws {
    _ = try TestModels.defaultSource()
    let data = try scratch.write("{\"prompt\": \"2+2=\", \"choices\": [\" 4\", \" 5\"], \"label\": 0}\n", "mc.jsonl")
    let eval = try lomo(["eval", "--data", data, "--max-seq-len", "100000"])
    XCTAssertEqual(eval.status, 1, eval.stderr)
    XCTAssertTrue(eval.stderr.contains("--max-seq-len 100000 is longer than the context"), eval.stderr)
  }

  func testTrainWritesTheModelAndNeverOverwritesIt() throws {
    _ = try TestModels.defaultSource()
    let data = try writeData(count: 4)
    let arguments = ["train", "--data", data, "--output", "run", "--max-steps", "2", "--batch-size", "2",
                     "--lr", "0.01", "--threads", "1"]
    let first = try lomo(arguments)
    XCTAssertEqual(first.status, 0, first.stderr)
    XCTAssertTrue(first.stdout.contains("final model"), first.stdout)
    let final = directory.appendingPathComponent("run/final/model.gguf")
    let written = try FileManager.default.attributesOfItem(atPath: final.path)[.modificationDate] as? Date

    let again = try lomo(arguments)
    XCTAssertEqual(again.status, 1)
    XCTAssertTrue(again.stderr.contains("exists; add --overwrite to replace it"), again.stderr)
    let after = try FileManager.default.attributesOfItem(atPath: final.path)[.modificationDate] as? Date
    XCTAssertEqual(written, after, "the refused run touched the saved model")
  }

  /// Two micro-batches of one sequence per step on the default model: the run says so, with
  /// the memory of the other ways to take the same steps, and writes its model.
  func testGradientAccumulationTrainsTheDefaultModel() throws {
    _ = try TestModels.defaultSource()
    let data = try writeData(count: 4)
    let run = try lomo(["train", "--data", data, "--output", "run", "--max-steps", "2", "--batch-size", "1",
                        "--gradient-accumulation-steps", "2", "--lr", "0.01", "--threads", "1"])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(run.stderr.contains("2 steps of 2 × 1"), run.stderr)
    XCTAssertTrue(run.stderr.contains("2 micro-batches of 1: estimated"), run.stderr)
    XCTAssertTrue(run.stderr.contains("one batch of 2 with --activation-checkpointing"), run.stderr)
    XCTAssertTrue(FileManager.default.fileExists(atPath: scratch("run/final/model.gguf")))

    let refused = try lomo(["train", "--data", data, "--output", "run2", "--gradient-accumulation-steps", "0"])
    XCTAssertEqual(refused.status, 64, refused.stderr)
    XCTAssertTrue(refused.stderr.contains("gradient accumulation steps must be at least 1"), refused.stderr)
  }

  func testCtrlCSavesACheckpointThatResumes() throws {
    _ = try TestModels.defaultSource()
    let data = try writeData(count: 8)
    let arguments = ["train", "--data", data, "--output", "run", "--max-steps", "40", "--batch-size", "1",
                     "--lr", "0.01", "--threads", "1"]
    let interrupted = try lomo(arguments) { process, stderr in
      // Progress lines come every 10 steps when stderr is not a terminal.
      if read(stderr, until: "step 10/40") { kill(process.processIdentifier, SIGINT) }
    }
    XCTAssertEqual(interrupted.status, 130, interrupted.stderr)
    XCTAssertTrue(interrupted.stderr.contains("--resume"), interrupted.stderr)
    let checkpoint = directory.appendingPathComponent("run/checkpoint").path
    XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint))
    XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/final").path))

    let resumed = try lomo(arguments + ["--resume", checkpoint])
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    XCTAssertTrue(resumed.stderr.contains("resumed from"), resumed.stderr)
    let stepsRow = resumed.stdout.split(separator: "\n").first { $0.hasPrefix("  steps ") }
    XCTAssertEqual(stepsRow?.split(separator: " ").last, "40", resumed.stdout)
  }
}

extension ProcessTests {
  /// `lomo eval` on data without answer choices (here chat conversations through the model's
  /// template): the mean loss over the trained tokens and its perplexity, in the report too.
  func testEvalScoresChatDataByLossAndPerplexity() throws {
    _ = try TestModels.defaultSource()
    let chat = try scratch.write("""
      {"messages": [{"role": "user", "content": "What is the capital of France?"}, {"role": "assistant", "content": "Paris."}]}
      {"messages": [{"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Blue."}]}
      """, "chat.jsonl")
    let outcome = try lomo(["eval", "--data", chat, "--threads", "1", "--report", "report.json"])
    XCTAssertEqual(outcome.status, 0, outcome.stderr)
    let line = try XCTUnwrap(outcome.stdout.firstMatch(of: /messages: loss ([0-9.]+), perplexity ([0-9.]+) over (\d+) trained tokens of 2 examples/),
                             outcome.stdout)
    let report = try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: directory.appendingPathComponent("report.json")))
    let loss = try XCTUnwrap(report.loss)
    XCTAssertEqual(String(format: "%.4f", loss), String(line.1))
    XCTAssertEqual(report.perplexity!, exp(loss), accuracy: 1e-9 * exp(loss))
    XCTAssertEqual(report.scoredTokens, Int(line.3))
    XCTAssertGreaterThan(loss, 0)
    XCTAssertNil(report.metrics)
  }
}

extension ProcessTests {
  /// `lomo eval --chat` scores choices as assistant replies through the chat template: other
  /// scores than the plain prompt's, recorded as such in the report.
  func testEvalWithTheChatTemplateScoresRepliesInstead() throws {
    _ = try TestModels.defaultSource()
    let data = try scratch.write("""
      {"prompt": "What is the capital of France?", "choices": ["Paris.", "Berlin."], "label": 0}
      {"prompt": "Which is a colour?", "choices": ["A table.", "Blue."], "label": 1}
      """, "choices.jsonl")
    func report(_ extra: [String], _ name: String) throws -> EvaluationReport {
      let outcome = try lomo(["eval", "--data", data, "--threads", "1", "--report", name] + extra)
      XCTAssertEqual(outcome.status, 0, outcome.stderr)
      XCTAssertTrue(outcome.stdout.contains("choices: accuracy"), outcome.stdout)
      return try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }
    let chat = try report(["--chat"], "chat.json"), plain = try report([], "plain.json")
    XCTAssertTrue(chat.chatTemplate)
    XCTAssertFalse(plain.chatTemplate)
    XCTAssertEqual(chat.scores?.map(\.count), [2, 2])
    XCTAssertNotEqual(chat.scores, plain.scores)
  }
}

extension ProcessTests {
  /// A Hugging Face folder lomo wrote (from the default GGUF) keeps its chat template:
  /// `generate --chat` on it answers as on the GGUF, and chat data trains from it.
  func testAHuggingFaceExportChatsAndTrainsOnChatData() throws {
    let source = try TestModels.defaultSource().path
    let convert = try lomo(["convert", "--model", source, "--format", "safetensors", "--type", "f32", "--output", "hf"])
    XCTAssertEqual(convert.status, 0, convert.stderr)
    let ask = ["generate", "--chat", "--prompt", "What is the capital of France?", "--max-new-tokens", "6", "--threads", "1"]
    let fromGGUF = try lomo(ask), fromFolder = try lomo(ask + ["--model", "hf"])
    XCTAssertEqual(fromFolder.status, 0, fromFolder.stderr)
    XCTAssertEqual(fromFolder.stdout, fromGGUF.stdout)
    let chat = try scratch.write(#"{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}"#, "chat.jsonl")
    let train = try lomo(["train", "--model", "hf", "--data", chat, "--output", "run", "--max-steps", "1", "--threads", "1"])
    XCTAssertEqual(train.status, 0, train.stderr)
    XCTAssertTrue(train.stderr.contains("messages: 1 examples"), train.stderr)
    let card = try String(contentsOfFile: scratch("run/final/README.md"), encoding: .utf8)
    XCTAssertTrue(card.contains("base_model: \"hf\""), card)
  }
}
