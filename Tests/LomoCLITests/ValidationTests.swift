import ArgumentParser
import XCTest

@testable import LomoCLI

/// Every command checks its options before running: the message names the option, and the
/// status is ArgumentParser's usage error (64).
final class ValidationTests: XCTestCase {
  /// The message and exit status of parsing `arguments` (with the subcommand name first).
  func failure(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) -> (String, Int32)? {
    do {
      _ = try Lomo.parse(arguments)
      XCTFail("\(arguments) parsed", file: file, line: line)
      return nil
    } catch {
      return (Lomo.message(for: error), Lomo.exitCode(for: error).rawValue)
    }
  }

  func assertRefused(_ arguments: [String], mentioning text: String,
                     file: StaticString = #filePath, line: UInt = #line) {
    guard let (message, status) = failure(arguments, file: file, line: line) else { return }
    XCTAssertTrue(message.contains(text), "'\(message)' does not mention '\(text)'", file: file, line: line)
    XCTAssertEqual(status, ExitCode.validationFailure.rawValue, message, file: file, line: line)
  }

  let train = ["train", "--data", "d.jsonl", "--output", "out"]

  func testTrainRefusesBadOptions() {
    assertRefused(train + ["--threads", "0"], mentioning: "--threads must be between 1 and")
    assertRefused(train + ["--threads", "100000"], mentioning: "--threads must be between 1 and")
    assertRefused(train + ["--task", "rte", "--format", "text"], mentioning: "--task needs --format superglue")
    assertRefused(train + ["--limit", "0"], mentioning: "--limit must be at least 1")
    assertRefused(train + ["--eval-limit", "0"], mentioning: "--eval-limit must be at least 1")
    assertRefused(train + ["--max-seq-len", "1"], mentioning: "--max-seq-len must be at least 2")
    assertRefused(train + ["--lr", "-1"], mentioning: "learning rate must be finite and >= 0")
    assertRefused(train + ["--batch-size", "0"], mentioning: "batch size must be at least 1")
    assertRefused(train + ["--epochs", "0"], mentioning: "epochs must be at least 1")
    assertRefused(train + ["--max-steps", "0"], mentioning: "max steps must be at least 1")
    assertRefused(train + ["--clip-grad-norm", "-1"], mentioning: "clipping thresholds must be finite and >= 0")
    assertRefused(train + ["--clip-grad-norm", "nan"], mentioning: "clipping thresholds must be finite and >= 0")
    assertRefused(train + ["--clip-grad-value", "inf"], mentioning: "clipping thresholds must be finite and >= 0")
    assertRefused(train + ["--weight-decay", "nan"], mentioning: "weight decay must be finite and >= 0")
    assertRefused(train + ["--lr", "nan"], mentioning: "learning rate must be finite and >= 0")
    assertRefused(train + ["--warmup", "nan"], mentioning: "The value 'nan' is invalid for '--warmup <warmup>'")
    assertRefused(train + ["--warmup", "-0.5"], mentioning: "warmup ratio must be in [0, 1]")
    assertRefused(train + ["--limit", "-3"], mentioning: "--limit must be at least 1")
    assertRefused(train + ["--eval-every", "-1"], mentioning: "eval-every must not be negative")
    assertRefused(train + ["--eval-every", "5"], mentioning: "--eval-every needs --eval-data")
    assertRefused(train + ["--keep-checkpoints", "2"], mentioning: "--keep-checkpoints needs --save-every")
    assertRefused(train + ["--keep-checkpoints", "0", "--save-every", "2"], mentioning: "--keep-checkpoints must be at least 1")
    assertRefused(train + ["--optimizer", "adam"], mentioning: "'lomo', 'adalomo', 'sgd' or 'adamw'")
    assertRefused(train + ["--dtype", "f64"], mentioning: "'f32', 'bf16' or 'f16'")
    assertRefused(train + ["--warmup", "2.5"], mentioning: "--warmup")
    assertRefused(train + ["--task", "squad"], mentioning: "The value 'squad' is invalid for '--task <task>'")
    assertRefused(["train", "--output", "out"], mentioning: "Missing expected argument '--data <data>'")
    assertRefused(["train", "--data", "d.jsonl"], mentioning: "Missing expected argument '--output <output>'")
  }

  func testOtherCommandsShareTheChecks() {
    assertRefused(["eval", "--data", "d.jsonl", "--threads", "0"], mentioning: "--threads must be between 1 and")
    assertRefused(["eval", "--data", "d.jsonl", "--batch-size", "0"], mentioning: "--batch-size must be at least 1")
    assertRefused(["eval", "--data", "d.jsonl", "--max-seq-len", "0"], mentioning: "--max-seq-len must be at least 2")
    assertRefused(["generate", "--prompt", "hi", "--top-p", "0"], mentioning: "--top-p must be in (0, 1]")
    assertRefused(["generate", "--prompt", "hi", "--top-p", "nan"], mentioning: "--top-p must be in (0, 1]")
    assertRefused(["generate", "--prompt", "hi", "--temperature", "nan"], mentioning: "--temperature must be finite and >= 0")
    assertRefused(["generate", "--prompt", "hi", "--temperature", "-1"], mentioning: "--temperature must be finite and >= 0")
    assertRefused(["chat", "--temperature", "-1"], mentioning: "--temperature must be finite and >= 0")
    assertRefused(["chat", "--max-new-tokens", "0"], mentioning: "--max-new-tokens must be at least 1")
    assertRefused(["demo", "--lr", "nan"], mentioning: "learning rate must be finite and >= 0")
    assertRefused(["demo", "--clip-grad-norm", "-1"], mentioning: "clipping thresholds must be finite and >= 0")
    assertRefused(["bench", "--clip-grad-norm", "nan"], mentioning: "--clip-grad-norm must be finite and ≥ 0")
    assertRefused(["bench", "--steps", "-2"], mentioning: "--steps must be ≥ 1")
    assertRefused(["generate", "--prompt", "hi", "--threads", "5000"], mentioning: "--threads must be between 1 and")
    assertRefused(["demo", "--steps", "0"], mentioning: "--steps must be at least 1")
    assertRefused(["bench", "--threads", "0"], mentioning: "--threads must be between 1 and")
    assertRefused(["bench-kernels", "--repeats", "0"], mentioning: "--repeats must be at least 1")
    assertRefused(["convert", "--output", "x", "--type", "q4_0"], mentioning: "'f32', 'f16', 'bf16' or 'q8_0'")
  }
}
