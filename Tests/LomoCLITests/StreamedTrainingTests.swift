import Foundation
import LomoModel
import LomoTestSupport
import XCTest

/// `lomo train --stream-weights` on the default model (SmolLM2-135M, bf16, 4 of its 30 layers
/// in memory): killed outright during a step, it resumes from its last periodic checkpoint
/// (`--save-every`) to exactly the model of a run that was never interrupted.
final class StreamedTrainingTests: XCTestCase {
  var scratch: TemporaryDirectory!
  var directory: URL { scratch.url }

  override func setUpWithError() throws {
    scratch = try temporaryDirectory("cli-streamed", onDisk: true)
    guard FileManager.default.isExecutableFile(atPath: lomoExecutable.path) else {
      throw XCTSkip("no lomo executable at \(lomoExecutable.path); build it first (swift build)")
    }
    _ = try TestModels.defaultSource()
  }

  func lomo(_ arguments: [String], whileRunning: ((Process, FileHandle) -> Void)? = nil) throws -> Outcome {
    try launch(lomoExecutable, arguments, in: directory, whileRunning: whileRunning)
  }

  func testKilledDuringAStepResumesToTheUninterruptedModel() throws {
    let lines = (0..<8).map { i in
      "{\"input_ids\": [" + (0..<48).map { "\(100 + (i * 7 + $0 * 13) % 900)" }.joined(separator: ", ") + "]}"
    }
    let data = try scratch.write(lines.joined(separator: "\n"), "train.jsonl")
    let arguments = ["train", "--data", data, "--max-steps", "6", "--batch-size", "2", "--lr", "0.01",
                     "--clip-grad-norm", "1", "--dtype", "bf16", "--threads", "1",
                     "--stream-weights", "--stream-budget", "30MB"]
    // Both outputs are named "run": the name goes into the GGUF's general.name.
    let whole = try lomo(arguments + ["--output", "whole/run"])
    XCTAssertEqual(whole.status, 0, whole.stderr)
    XCTAssertTrue(whole.stderr.contains("of 30 layers in memory"), whole.stderr)

    let killedArguments = arguments + ["--output", "killed/run", "--save-every", "2", "--metrics", "metrics.jsonl"]
    let metrics = directory.appendingPathComponent("metrics.jsonl").path
    let killed = try lomo(killedArguments) { process, _ in
      // Step 3 is logged after the checkpoint of step 2: the kill lands in step 4.
      while process.isRunning {
        let logged = (try? String(contentsOfFile: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0
        if logged >= 3 {
          kill(process.processIdentifier, SIGKILL)
          break
        }
        usleep(5000)
      }
    }
    XCTAssertEqual(killed.status, SIGKILL, "killed by SIGKILL: \(killed.stderr)")
    let folder = directory.appendingPathComponent("killed/run").path
    XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/final"))
    XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: folder).contains { $0.hasPrefix(".lomo-streamed") },
                   "the streamed weights file is never visible")

    let resumed = try lomo(killedArguments + ["--resume", folder + "/checkpoint"])
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    XCTAssertTrue(resumed.stderr.contains("resumed from"), resumed.stderr)
    let a = try Data(contentsOf: directory.appendingPathComponent("whole/run/final/model.gguf"))
    let b = try Data(contentsOf: URL(fileURLWithPath: folder + "/final/model.gguf"))
    XCTAssertEqual(a.count, b.count)
    XCTAssertTrue(a == b, "the resumed model differs from the uninterrupted one")
  }

  /// `lomo eval` and `lomo generate` with 2 layers in memory say what the model does in memory.
  func testEvalAndGenerateStreamedEqualInMemory() throws {
    let items = [#"{"prompt": "2+2=", "choices": [" 4", " 5"], "label": 0}"#,
                 #"{"prompt": "The sky is", "choices": [" blue", " loud", " square"], "label": 0}"#]
    let data = try scratch.write(items.joined(separator: "\n"), "mc.jsonl")
    let streamed = ["--stream-weights", "--stream-budget", "30MB"]
    for command in [["eval", "--data", data, "--threads", "1"],
                    ["generate", "--prompt", "The capital of France is", "--max-new-tokens", "6", "--threads", "1"]] {
      let inMemory = try lomo(command), fromDisk = try lomo(command + streamed)
      XCTAssertEqual(inMemory.status, 0, inMemory.stderr)
      XCTAssertEqual(fromDisk.status, 0, fromDisk.stderr)
      XCTAssertTrue(fromDisk.stderr.contains("2 of 30 layers in memory"), fromDisk.stderr)
      let result = { (o: Outcome) in o.stdout.split(separator: "\n").filter { !$0.hasPrefix("time ") } }
      XCTAssertEqual(result(inMemory), result(fromDisk), command[0])
    }
  }

  /// A model whose weights cannot fit (llama-30b's shape, 65 GB in bf16: a Hugging Face folder
  /// with its config.json only) is refused before anything is loaded, and the refusal names
  /// --stream-weights.
  func testAModelLargerThanMemoryIsRefusedBeforeLoadingWithTheWayOut() throws {
    let c = try XCTUnwrap(ModelCatalog.config(named: "llama-30b"))
    let model = directory.appendingPathComponent("llama-30b").path
    try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
    try scratch.write("""
      {"model_type": "llama", "hidden_size": \(c.hiddenSize), "intermediate_size": \(c.intermediateSize),
       "num_hidden_layers": \(c.layers), "num_attention_heads": \(c.heads), "num_key_value_heads": \(c.kvHeads),
       "vocab_size": \(c.vocabSize), "max_position_embeddings": \(c.maxContext), "rms_norm_eps": 1e-6,
       "rope_theta": 10000.0, "tie_word_embeddings": false}
      """, "llama-30b/config.json")
    let data = try scratch.write("{\"prompt\": \"2+2=\", \"choices\": [\" 4\", \" 5\"], \"label\": 0}\n", "mc.jsonl")
    let train = try lomo(["train", "--model", model, "--data", data, "--output", "o", "--dtype", "bf16"])
    XCTAssertEqual(train.status, 1, train.stderr)
    XCTAssertTrue(train.stderr.contains("this run needs at least") && train.stderr.contains("with --stream-weights"), train.stderr)
    let eval = try lomo(["eval", "--model", model, "--data", data, "--dtype", "bf16"])
    XCTAssertEqual(eval.status, 1, eval.stderr)
    XCTAssertTrue(eval.stderr.contains("add --stream-weights"), eval.stderr)
  }

  func testStreamingIsRefusedWhereItCannotRun() throws {
    let data = try scratch.write("{\"input_ids\": [1, 2, 3, 4]}\n", "train.jsonl")
    let adamw = try lomo(["train", "--data", data, "--output", "o", "--optimizer", "adamw", "--stream-weights"])
    XCTAssertEqual(adamw.status, 1, adamw.stderr)
    XCTAssertTrue(adamw.stderr.contains("--stream-weights trains with --optimizer lomo or adalomo"), adamw.stderr)
    let budget = try lomo(["train", "--data", data, "--output", "o", "--stream-weights", "--stream-budget", "1kB"])
    XCTAssertEqual(budget.status, 1, budget.stderr)
    XCTAssertTrue(budget.stderr.contains("holds no layer"), budget.stderr)
    let folder = try lomo(["train", "--data", data, "--output", "o", "--stream-weights", "--stream-dir", "/nonexistent/dir"])
    XCTAssertEqual(folder.status, 1, folder.stderr)
    XCTAssertTrue(folder.stderr.contains("/nonexistent/dir: no such folder"), folder.stderr)
    let alone = try lomo(["train", "--data", data, "--output", "o", "--stream-budget", "1GB"])
    XCTAssertEqual(alone.status, 64, alone.stderr)
    XCTAssertTrue(alone.stderr.contains("need --stream-weights"), alone.stderr)
  }
}
