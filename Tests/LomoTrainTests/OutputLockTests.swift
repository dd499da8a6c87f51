import Foundation
import LomoTrain
import LomoTestSupport
import XCTest

/// `OutputLock`: one holder at a time (a second claim names the holder's pid), released on
/// deinit without leaving the lock file, and folders that cannot be outputs named.
final class OutputLockTests: XCTestCase {
  func testASecondClaimIsRefusedUntilTheFirstIsReleased() throws {
    let scratch = try temporaryDirectory("lock")
    let output = scratch("out/nested")
    var first: OutputLock? = try OutputLock(directory: output)
    XCTAssertEqual(try String(contentsOfFile: output + "/.lock", encoding: .utf8), "\(getpid())\n")
    XCTAssertThrowsError(try OutputLock(directory: output)) { error in
      XCTAssertEqual(error as? OutputFolderError, .inUse(output, pid: getpid()))
      XCTAssertTrue("\(error)".contains("another lomo run (pid \(getpid()))"), "\(error)")
    }
    first = nil
    XCTAssertNil(first)
    XCTAssertEqual(TemporaryDirectory.contents(of: output), [], "the released lock left its file")
    let second = try OutputLock(directory: output)
    XCTAssertTrue(FileManager.default.fileExists(atPath: second.lockPath))
  }

  /// A lock file left by a run that was killed holds no flock: the next run takes it over.
  func testALeftOverLockFileIsTakenOver() throws {
    let scratch = try temporaryDirectory("lock")
    try scratch.write("999999\n", ".lock")
    let lock = try OutputLock(directory: scratch.path)
    XCTAssertEqual(try String(contentsOfFile: lock.lockPath, encoding: .utf8), "\(getpid())\n")
  }

  func testAFileInTheWayIsNamed() throws {
    let scratch = try temporaryDirectory("lock")
    let file = try scratch.write("x", "file")
    XCTAssertThrowsError(try OutputLock(directory: file + "/out")) { error in
      XCTAssertEqual("\(error)", "\(file)/out: cannot be the output folder: \(file): exists and is not a folder; choose another --output")
    }
  }
}
