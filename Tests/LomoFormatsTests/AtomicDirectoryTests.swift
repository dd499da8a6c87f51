import Foundation
import LomoFormats
import LomoTestSupport
import XCTest

/// `AtomicDirectory`: a folder appears complete or not at all, an existing one is replaced only
/// with overwrite, and no failure loses it or leaves a staging folder behind.
final class AtomicDirectoryTests: XCTestCase {
  func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

  /// An existing destination holding `old.txt`.
  func existingFolder(_ dir: TemporaryDirectory) throws -> String {
    let dest = dir("model")
    try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: false)
    try Data("old".utf8).write(to: URL(fileURLWithPath: dest + "/old.txt"))
    return dest
  }

  func testCommitMovesTheStagedFilesIntoPlace() throws {
    let dir = try TemporaryDirectory("atomic-dir")
    let folder = try AtomicDirectory(destination: dir("model/"), overwrite: false)
    XCTAssertEqual(folder.destination, dir("model"))
    XCTAssertFalse(folder.stagingPath.hasPrefix(dir("model/")), "staging must not be inside the destination")
    try AtomicFileWriter.write(Array("a".utf8), to: folder.path("a.txt"), overwrite: false)
    try FileManager.default.createDirectory(atPath: folder.path("sub"), withIntermediateDirectories: false)
    try Data("b".utf8).write(to: URL(fileURLWithPath: folder.path("sub/b.txt")))  // not fsynced by its writer
    XCTAssertFalse(AtomicFileWriter.exists(dir("model")), "nothing at the destination before commit")
    try folder.commit()
    XCTAssertEqual(try text(dir("model/a.txt")), "a")
    XCTAssertEqual(try text(dir("model/sub/b.txt")), "b")
    XCTAssertEqual(dir.contents, ["model"], "no staging folder left")
  }

  func testOverwriteReplacesTheOldFolder() throws {
    let dir = try TemporaryDirectory("atomic-dir")
    let dest = try existingFolder(dir)
    try AtomicDirectory.write(to: dest, overwrite: true) { try AtomicFileWriter.write(Array("new".utf8), to: $0.path("new.txt"), overwrite: false) }
    XCTAssertEqual(TemporaryDirectory.contents(of: dest), ["new.txt"])
    XCTAssertEqual(dir.contents, ["model"], "neither staging nor the old folder left")
  }

  /// `link` replaces a folder, or an earlier link, by a relative link; nothing else is left.
  func testLinkReplacesAFolderOrALinkWithALink() throws {
    let dir = try TemporaryDirectory("atomic-dir")
    let dest = try existingFolder(dir)
    try FileManager.default.createDirectory(atPath: dir("final"), withIntermediateDirectories: false)
    try Data("final".utf8).write(to: URL(fileURLWithPath: dir("final/model.txt")))
    for _ in 0..<2 {
      try AtomicDirectory.link(dest, to: "final")
      XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: dest), "final")
      XCTAssertEqual(try text(dest + "/model.txt"), "final")
      XCTAssertEqual(dir.contents, ["final", "model"], "neither staging nor the old folder left")
    }
    try AtomicDirectory.write(to: dest, overwrite: true) { try AtomicFileWriter.write(Array("new".utf8), to: $0.path("new.txt"), overwrite: false) }
    XCTAssertEqual(TemporaryDirectory.contents(of: dest), ["new.txt"], "a link is replaced by a folder")
    XCTAssertEqual(TemporaryDirectory.contents(of: dir("final")), ["model.txt"], "the link's target is untouched")
  }

  func testWithoutOverwriteAnExistingDestinationIsRefusedAndKept() throws {
    let dir = try TemporaryDirectory("atomic-dir")
    let dest = try existingFolder(dir)
    XCTAssertThrowsError(try AtomicDirectory(destination: dest, overwrite: false)) {
      XCTAssertEqual($0 as? FileWriteError, FileWriteError(path: dest, problem: .destinationExists))
    }
    // The destination appears while the folder is being written: commit refuses too.
    let other = dir("other")
    let folder = try AtomicDirectory(destination: other, overwrite: false)
    try AtomicFileWriter.write(Array("new".utf8), to: folder.path("new.txt"), overwrite: false)
    try Data("someone else's".utf8).write(to: URL(fileURLWithPath: other))
    XCTAssertThrowsError(try folder.commit()) {
      XCTAssertEqual($0 as? FileWriteError, FileWriteError(path: other, problem: .destinationExists))
    }
    XCTAssertEqual(try text(other), "someone else's")
    XCTAssertEqual(try text(dest + "/old.txt"), "old")
    XCTAssertEqual(dir.contents, ["model", "other"], "no staging folder left")
  }

  func testAFailureMidwayLeavesTheDestinationAndNoStaging() throws {
    struct WriterFailed: Error {}
    let dir = try TemporaryDirectory("atomic-dir")
    let dest = try existingFolder(dir)
    XCTAssertThrowsError(try AtomicDirectory.write(to: dest, overwrite: true) { folder in
      try AtomicFileWriter.write(Array("half".utf8), to: folder.path("a.txt"), overwrite: false)
      throw WriterFailed()
    }) { XCTAssertTrue($0 is WriterFailed, "\($0)") }
    XCTAssertEqual(TemporaryDirectory.contents(of: dest), ["old.txt"])
    XCTAssertEqual(dir.contents, ["model"])

    // Dropped without commit.
    do {
      let folder = try AtomicDirectory(destination: dir("never"), overwrite: false)
      try AtomicFileWriter.write(Array("x".utf8), to: folder.path("x.txt"), overwrite: false)
      XCTAssertEqual(dir.contents.count, 2, "the staging folder exists while writing")
    }
    XCTAssertEqual(dir.contents, ["model"])
  }

  /// The final rename fails after the old folder was moved aside (the staging folder was
  /// deleted from outside before commit): the old folder is moved back.
  func testTheOldFolderIsRestoredWhenTheFinalRenameFails() throws {
    let dir = try TemporaryDirectory("atomic-dir")
    let dest = try existingFolder(dir)
    let folder = try AtomicDirectory(destination: dest, overwrite: true)
    try AtomicFileWriter.write(Array("new".utf8), to: folder.path("new.txt"), overwrite: false)
    try FileManager.default.removeItem(atPath: folder.stagingPath)
    XCTAssertThrowsError(try folder.commit()) { error in
      guard let e = error as? FileWriteError, case .io(let operation, let file, _) = e.problem else {
        return XCTFail("\(error)")
      }
      XCTAssertEqual(operation, "rename")
      XCTAssertEqual(file, folder.stagingPath)
    }
    XCTAssertEqual(TemporaryDirectory.contents(of: dest), ["old.txt"])
    XCTAssertEqual(try text(dest + "/old.txt"), "old")
    XCTAssertEqual(dir.contents, ["model"], "no staging or old folder left")
  }

  /// Leftovers of a dead pid go (an orphaned `.old` folder comes back), of a live pid stay;
  /// names that only look alike are not touched.
  func testRemoveStaleCleansOnlyAfterDeadProcesses() throws {
    let scratch = try temporaryDirectory("stale")
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: "/bin/true")
    try probe.run()
    probe.waitUntilExit()
    let dead = probe.processIdentifier, live = getpid()
    let names = [".final.tmp-\(dead)", ".best.old-\(dead)", ".checkpoint.old-\(dead)", "checkpoint",
                 ".final.tmp-\(live)", ".final.tmp-x\(dead)", "final.tmp-\(dead)", "..tmp-\(dead)"]
    for name in names {
      try FileManager.default.createDirectory(atPath: scratch(name), withIntermediateDirectories: true)
    }
    try scratch.write("mine", ".best.old-\(dead)/marker")
    let done = AtomicDirectory.removeStale(in: scratch.path)
    XCTAssertEqual(done, [
      .restored(scratch(".best.old-\(dead)"), to: scratch("best")),
      .removedOld(scratch(".checkpoint.old-\(dead)")),
      .removedStaging(scratch(".final.tmp-\(dead)")),
    ])
    XCTAssertEqual(scratch.contents, ["..tmp-\(dead)", ".final.tmp-\(live)", ".final.tmp-x\(dead)", "best",
                                      "checkpoint", "final.tmp-\(dead)"])
    XCTAssertEqual(try String(contentsOfFile: scratch("best/marker"), encoding: .utf8), "mine")
    XCTAssertFalse(AtomicDirectory.isAlive(dead))
    XCTAssertTrue(AtomicDirectory.isAlive(live))
    XCTAssertFalse(AtomicDirectory.isAlive(0))
  }
}
