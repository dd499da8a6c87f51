import Foundation
import LomoTestSupport
import XCTest

extension ProcessTests {
  /// `--lr 1e30` diverges: exit 1 with the error and what to try, no final model, a checkpoint
  /// of the last good weights that a run with a lower rate resumes from.
  func testADivergingRunSavesTheGoodWeightsAndFails() throws {
    _ = try TestModels.defaultSource()
    let data = try writeData(count: 4)
    let arguments = ["train", "--data", data, "--output", "run", "--max-steps", "4", "--batch-size", "2",
                     "--threads", "1"]
    let diverged = try lomo(arguments + ["--lr", "1e30"])
    XCTAssertEqual(diverged.status, 1, diverged.stderr)
    XCTAssertTrue(diverged.stderr.contains("training diverged at step"), diverged.stderr)
    XCTAssertTrue(diverged.stderr.contains("Try a lower --lr"), diverged.stderr)
    let checkpoint = directory.appendingPathComponent("run/checkpoint").path
    XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint), diverged.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/final").path))

    // The checkpoint holds the weights after the last completed step; a lower rate may resume
    // from it. (At 1e30 those weights are already far off, so the resumed run may diverge too.)
    let good = try XCTUnwrap(diverged.stderr.firstMatch(of: /weights after step (\d+) to/)?.1)
    let resumed = try lomo(arguments + ["--lr", "0.01", "--resume", checkpoint])
    XCTAssertTrue(resumed.stderr.contains("resumed from \(checkpoint) at step \(good)"), resumed.stderr)
  }
}
