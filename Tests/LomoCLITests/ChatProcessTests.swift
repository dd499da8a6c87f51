import Foundation
import LomoTestSupport
import XCTest

/// `lomo chat` with lines piped into it, and `lomo generate`'s speed line, on the default model
/// (SmolLM2-135M-Instruct), greedy.
final class ChatProcessTests: XCTestCase {
  var scratch: TemporaryDirectory!

  override func setUpWithError() throws {
    _ = try TestModels.defaultSource()
    scratch = try temporaryDirectory("cli-chat")
    guard FileManager.default.isExecutableFile(atPath: lomoExecutable.path) else {
      throw XCTSkip("no lomo executable at \(lomoExecutable.path); build it first (swift build)")
    }
  }

  func lomo(_ arguments: [String], input: String? = nil) throws -> Outcome {
    try launch(lomoExecutable, arguments + ["--threads", "2"], in: scratch.url, input: input)
  }

  /// The "N tokens in S s, X tokens/s" lines of `stderr`.
  func speedLines(_ stderr: String) -> [String] {
    stderr.split(separator: "\n").map(String.init).filter {
      $0.range(of: #"^[0-9]+ tokens in [0-9.]+ s, [0-9.]+ tokens/s$"#, options: .regularExpression) != nil
    }
  }

  func testTwoTurnsAndReset() throws {
    // One user turn through the template: what lomo chat answers first.
    let single = try lomo(["generate", "--chat", "--prompt", "Hi", "--max-new-tokens", "8"])
    XCTAssertEqual(single.status, 0, single.stderr)
    XCTAssertEqual(speedLines(single.stderr).count, 1, single.stderr)
    let first = single.stdout
    XCTAssertFalse(first.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)

    let chat = try lomo(["chat", "--max-new-tokens", "8"], input: "Hi\nWhat is 2+2?\n")
    XCTAssertEqual(chat.status, 0, chat.stderr)
    XCTAssertEqual(speedLines(chat.stderr).count, 2, chat.stderr)
    XCTAssertTrue(chat.stdout.hasPrefix(first), "first reply:\n\(chat.stdout)")
    let second = chat.stdout.dropFirst(first.count)
    XCTAssertTrue(second.hasSuffix("\n") && second.count > 1, "second reply:\n\(chat.stdout)")

    // Without /reset the second "Hi" is answered after the first exchange; with it, afresh.
    let reset = try lomo(["chat", "--max-new-tokens", "8"], input: "Hi\n/reset\nHi\n/quit\nnot read\n")
    XCTAssertEqual(reset.status, 0, reset.stderr)
    XCTAssertEqual(reset.stdout, first + first)
    XCTAssertTrue(reset.stderr.contains("chat: history cleared"), reset.stderr)
    XCTAssertEqual(speedLines(reset.stderr).count, 2, reset.stderr)
    let again = try lomo(["chat", "--max-new-tokens", "8"], input: "Hi\nHi\n")
    XCTAssertEqual(again.status, 0, again.stderr)
    XCTAssertNotEqual(again.stdout, first + first, "the history changes the second reply")
  }

  func testSystemPromptAndNoInput() throws {
    let quiet = try lomo(["chat", "--max-new-tokens", "8"], input: "")
    XCTAssertEqual(quiet.status, 0, quiet.stderr)
    XCTAssertEqual(quiet.stdout, "")
    let plain = try lomo(["generate", "--chat", "--prompt", "Hi", "--max-new-tokens", "8"])
    let pirate = try lomo(["chat", "--max-new-tokens", "8", "--system", "You are a pirate. Answer in French."], input: "Hi\n")
    XCTAssertEqual(pirate.status, 0, pirate.stderr)
    XCTAssertNotEqual(pirate.stdout, plain.stdout, "the system prompt replaces the template's default")
  }
}
