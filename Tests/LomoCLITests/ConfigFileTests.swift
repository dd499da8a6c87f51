import ArgumentParser
import Foundation
import LomoTestSupport
import LomoTrain
import XCTest

@testable import LomoCLI

/// `--config FILE`: the file's options are the command's own options, the command line wins,
/// and a key that is no option is refused naming the file.
final class ConfigFileTests: XCTestCase {
  var directory: TemporaryDirectory!

  override func setUpWithError() throws { directory = try temporaryDirectory("cli-config") }

  func file(_ name: String, _ text: String) throws -> String { try directory.write(text, name) }

  func train(_ arguments: [String]) throws -> Train {
    let command = try Lomo.parse(["train"] + arguments)
    return try XCTUnwrap(command as? Train)
  }

  func testYAMLOptionsAndCommandLineOverride() throws {
    let path = try file("run.yaml", """
      # a run
      ---
      data: "train.jsonl"
      output: out
      max_steps: 100
      lr: 1e-2
      optimizer: adalomo
      gradient_accumulation_steps: 4
      activation-checkpointing: true
      overwrite: false
      eval-data: 'dev.jsonl'   # trailing comment
      """)
    let t = try train(["--config", path, "--lr", "0.5"])
    XCTAssertEqual(t.data.data, "train.jsonl")
    XCTAssertEqual(t.output.output, "out")
    XCTAssertEqual(t.trainingOptions.length, .maxSteps(100))
    XCTAssertEqual(t.trainingOptions.learningRate, 0.5, "the command line wins")
    XCTAssertEqual(t.trainingOptions.optimizer, .adalomo)
    XCTAssertEqual(t.trainingOptions.gradientAccumulationSteps, 4)
    XCTAssertTrue(t.trainingOptions.activationCheckpointing)
    XCTAssertFalse(t.output.overwrite)
    XCTAssertEqual(t.evaluation.evalData, "dev.jsonl")
  }

  func testJSONOptions() throws {
    let path = try file("run.json", """
      {"data": "d.jsonl", "output": "o", "batch-size": 2, "lr": 0.25, "warmup": 0.1,
       "activation_checkpointing": true, "seed": 9}
      """)
    let t = try train(["--config=\(path)"])
    XCTAssertEqual(t.trainingOptions.batchSize, 2)
    XCTAssertEqual(t.trainingOptions.learningRate, 0.25)
    XCTAssertEqual(t.trainingOptions.warmup, .ratio(0.1))
    XCTAssertEqual(t.trainingOptions.seed, 9)
    XCTAssertTrue(t.trainingOptions.activationCheckpointing)
  }

  func testProblemsNameTheFileAndTheKey() throws {
    func message(_ text: String, name: String = "bad.yaml") throws -> String {
      let path = try file(name, text)
      do {
        _ = try Lomo.parse(["train", "--config", path, "--data", "d", "--output", "o"])
        XCTFail("\(text) was accepted")
        return ""
      } catch {
        return Lomo.message(for: error)
      }
    }
    let unknown = try message("learning-rate: 0.1")
    XCTAssertTrue(unknown.contains("bad.yaml: 'learning-rate' is not an option of lomo train"), unknown)
    let flag = try message("overwrite: yes")
    XCTAssertTrue(flag.contains("'overwrite' is a flag: write true or false"), flag)
    let nested = try message("config: other.yaml")
    XCTAssertTrue(nested.contains("'config' is not an option"), nested)
    let noColon = try message("lr 0.1")
    XCTAssertTrue(noColon.contains("bad.yaml:1: expected 'key: value'"), noColon)
    let badValue = try message("lr: fast")
    XCTAssertTrue(badValue.contains("--lr"), badValue)
    let notObject = try message("[1, 2]", name: "bad.json")
    XCTAssertTrue(notObject.contains("bad.json"), notObject)
    let missing = directory("missing.yaml")
    XCTAssertThrowsError(try Lomo.parse(["train", "--config", missing])) { error in
      XCTAssertTrue(Lomo.message(for: error).contains("missing.yaml: cannot read the config file"))
    }
  }

  func testConfigValuesAreValidatedLikeTheCommandLine() throws {
    let path = try file("v.yaml", "data: d\noutput: o\nthreads: 0\n")
    XCTAssertThrowsError(try Lomo.parse(["train", "--config", path])) { error in
      XCTAssertTrue(Lomo.message(for: error).contains("--threads must be between 1 and"))
      XCTAssertEqual(Lomo.exitCode(for: error), .validationFailure)
    }
  }

  func testCommandsWithoutConfigAreParsedAsWritten() throws {
    XCTAssertThrowsError(try Lomo.parse(["eval", "--config", "x.yaml", "--data", "d"]))
    XCTAssertTrue(try Lomo.parse(["eval", "--data", "d"]) is Eval)
  }
}
