import Foundation
import LomoFormats
import LomoModel
import LomoTrain
import LomoTestSupport
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// `lomo train`'s output folder under faults, with the real executable: a second run on the
/// same output, leftovers of dead runs, a final save that fails, a full disk, and folders or
/// files in the wrong place.
extension ProcessTests {
  func trainArguments(_ data: String, steps: Int, output: String = "run") -> [String] {
    ["train", "--data", data, "--output", output, "--max-steps", "\(steps)", "--batch-size", "1",
     "--lr", "0.01", "--threads", "1"]
  }

  /// The pid of a process that has ended.
  func deadPID() throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/true")
    try p.run()
    p.waitUntilExit()
    return p.processIdentifier
  }

  func testASecondRunOnTheSameOutputIsRefusedAtOnce() throws {
    _ = try TestModels.defaultSource()
    let data = try writeData(count: 8)
    var second: Outcome?
    var firstPID: Int32 = 0
    let first = try lomo(trainArguments(data, steps: 40) + ["--overwrite"]) { process, stderr in
      firstPID = process.processIdentifier
      guard read(stderr, until: "step 10/40") else { return }
      second = try? self.lomo(self.trainArguments(data, steps: 40) + ["--overwrite"])
    }
    XCTAssertEqual(first.status, 0, first.stderr)
    let refused = try XCTUnwrap(second)
    XCTAssertEqual(refused.status, 1, refused.stderr)
    XCTAssertTrue(refused.stderr.contains("another lomo run (pid \(firstPID))"), refused.stderr)
    XCTAssertFalse(refused.stderr.contains("examples,"), "the refused run loaded the data: \(refused.stderr)")
    XCTAssertEqual(scratch.contents.filter { $0 == "run" }, ["run"])
    XCTAssertEqual(TemporaryDirectory.contents(of: scratch("run")), ["README.md", "final", "run.json", "run.svg"],
                   "lock or staging left behind")
  }

  func testLeftoversOfDeadRunsAreRemovedAndOfLiveRunsKept() throws {
    _ = try TestModels.defaultSource()
    let data = try writeData(count: 4)
    let dead = try deadPID(), live = getpid()
    let run = scratch("run")
    for folder in [".final.tmp-\(dead)", ".checkpoint.tmp-\(live)", ".best.old-\(dead)"] {
      try FileManager.default.createDirectory(atPath: run + "/" + folder, withIntermediateDirectories: true)
      try Data("x".utf8).write(to: URL(fileURLWithPath: run + "/" + folder + "/marker"))
    }
    let outcome = try lomo(trainArguments(data, steps: 2) + ["--overwrite"])
    XCTAssertEqual(outcome.status, 0, outcome.stderr)
    XCTAssertTrue(outcome.stderr.contains("removed run/.final.tmp-\(dead), the unfinished save"), outcome.stderr)
    XCTAssertTrue(outcome.stderr.contains("moved run/.best.old-\(dead) back to run/best"), outcome.stderr)
    XCTAssertEqual(TemporaryDirectory.contents(of: run),
                   [".checkpoint.tmp-\(live)", "README.md", "best", "final", "run.json", "run.svg"])
    XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/best/marker"),
                  "the moved-aside folder of a dead run must come back, not be deleted")
  }

  /// The source model disappears during training: the final GGUF (which copies its tokenizer)
  /// cannot be written; the weights are kept in OUTPUT/checkpoint, which then finishes the run.
  func testAFailedFinalSaveKeepsAResumableCheckpoint() throws {
    let source = try TestModels.defaultSource().path
    let model = scratch("model.gguf")
    try FileManager.default.copyItem(atPath: source, toPath: model)
    let data = try writeData(count: 8)
    let arguments = trainArguments(data, steps: 40) + ["--model", model]
    let failed = try lomo(arguments) { _, stderr in
      guard read(stderr, until: "step 10/40") else { return }
      try? FileManager.default.removeItem(atPath: model)
    }
    let checkpoint = scratch("run/checkpoint")
    XCTAssertEqual(failed.status, 1, failed.stderr)
    XCTAssertTrue(failed.stderr.contains("the final model \(scratch("run/final")) could not be saved"), failed.stderr)
    XCTAssertTrue(failed.stderr.contains("step 40/40) are kept in the resumable checkpoint \(checkpoint)"), failed.stderr)
    XCTAssertEqual(TemporaryDirectory.contents(of: scratch("run")), ["README.md", "checkpoint", "run.json", "run.svg"])
    XCTAssertEqual(try RunRecord.read(scratch("run/run.json")).status, .failed)

    try FileManager.default.copyItem(atPath: source, toPath: model)
    let finished = try lomo(arguments + ["--resume", checkpoint])
    XCTAssertEqual(finished.status, 0, finished.stderr)
    XCTAssertTrue(finished.stderr.contains("resumed from \(checkpoint) at step 40"), finished.stderr)
    XCTAssertTrue(FileManager.default.fileExists(atPath: scratch("run/final/model.gguf")))
  }

  /// The same with the best model: training stops at the failed save of best/, and the
  /// weights of that step are kept in OUTPUT/checkpoint.
  func testAFailedBestSaveStopsAndKeepsACheckpoint() throws {
    let source = try TestModels.defaultSource().path
    let model = scratch("model.gguf")
    try FileManager.default.copyItem(atPath: source, toPath: model)
    let data = try writeData(count: 8)
    let arguments = trainArguments(data, steps: 40) + ["--model", model, "--eval-data", data, "--eval-every", "20"]
    let failed = try lomo(arguments) { _, stderr in
      guard read(stderr, until: "step 10/40") else { return }
      try? FileManager.default.removeItem(atPath: model)
    }
    XCTAssertEqual(failed.status, 1, failed.stderr)
    XCTAssertTrue(failed.stderr.contains("the best model \(scratch("run/best")) could not be saved"), failed.stderr)
    XCTAssertTrue(failed.stderr.contains("(step 20/40) are kept in the resumable checkpoint \(scratch("run/checkpoint"))"), failed.stderr)
    XCTAssertEqual(TemporaryDirectory.contents(of: scratch("run")), ["README.md", "best", "checkpoint", "run.json", "run.svg"],
                   "best/ holds the starting model, saved at step 0")
  }

  /// An output on a 1 MB tmpfs: neither the final model nor a checkpoint fits there, so the
  /// checkpoint goes to the temporary folder and the full output is left clean (skipped where
  /// mounting is not permitted).
  func testAFullDiskKeepsTheWeightsInTheTemporaryFolder() throws {
    _ = try TestModels.defaultSource()
    let data = try writeData(count: 4)
    let small = scratch("small"), temporary = scratch("tmp")
    for folder in [small, temporary] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
    guard mount("tmpfs", small, "tmpfs", 0, "size=1m") == 0 else {
      throw XCTSkip("cannot mount a tmpfs here: \(String(cString: strerror(errno)))")
    }
    defer { umount(small) }
    let outcome = try lomo(trainArguments(data, steps: 2, output: small + "/run"), environment: ["TMPDIR": temporary])
    XCTAssertEqual(outcome.status, 1, outcome.stderr)
    XCTAssertTrue(outcome.stderr.contains("No space left on device"), outcome.stderr)
    XCTAssertTrue(outcome.stderr.contains("the disk is full"), outcome.stderr)
    let rescue = try XCTUnwrap(TemporaryDirectory.contents(of: temporary).first { $0.hasPrefix("lomo-checkpoint-") })
    XCTAssertTrue(outcome.stderr.contains("resumable checkpoint \(temporary)/\(rescue)"), outcome.stderr)
    XCTAssertEqual(TemporaryDirectory.contents(of: temporary + "/" + rescue), ["state.json", "tensors.bin"])
    XCTAssertEqual(TemporaryDirectory.contents(of: small + "/run"), ["README.md", "run.json", "run.svg"],
                   "the full disk kept a temporary folder (the run's small record fits)")
  }

  /// Progress messages to a stderr that refuses every byte are lost; the run is not.
  func testAFullStderrDoesNotStopTraining() throws {
    _ = try TestModels.defaultSource()
    guard let full = FileHandle(forWritingAtPath: "/dev/full") else { throw XCTSkip("no /dev/full") }
    let data = try writeData(count: 4)
    let process = Process()
    process.executableURL = lomoExecutable
    process.arguments = trainArguments(data, steps: 2)
    process.currentDirectoryURL = directory
    process.standardOutput = FileHandle.nullDevice
    process.standardError = full
    try process.run()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0)
    XCTAssertTrue(FileManager.default.fileExists(atPath: scratch("run/final/model.gguf")))
  }

  func testOutputAndDataInTheWrongPlaceAreNamed() throws {
    let data = try writeData(count: 4)
    let file = try scratch.write("not a folder", "file")
    let onFile = try lomo(trainArguments(data, steps: 2, output: file + "/run"))
    XCTAssertEqual(onFile.status, 1)
    XCTAssertTrue(onFile.stderr.contains("\(file): exists and is not a folder; choose another --output"), onFile.stderr)

    try FileManager.default.createDirectory(atPath: scratch("folder"), withIntermediateDirectories: true)
    _ = try TestModels.defaultSource()
    let folderData = try lomo(trainArguments(scratch("folder"), steps: 2))
    XCTAssertEqual(folderData.status, 1)
    XCTAssertTrue(folderData.stderr.contains("it is a folder; give the path of a JSONL file"), folderData.stderr)
    XCTAssertFalse(folderData.stderr.contains("NSCocoaErrorDomain"), folderData.stderr)
  }

  /// A read-only bind mount as the output folder (skipped where mounting is not permitted).
  func testAReadOnlyOutputIsRefusedBeforeTraining() throws {
    let data = try writeData(count: 4)
    let readOnly = scratch("ro")
    try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: true)
    guard mount(readOnly, readOnly, nil, UInt(MS_BIND), nil) == 0 else {
      throw XCTSkip("cannot bind-mount here: \(String(cString: strerror(errno)))")
    }
    defer { umount(readOnly) }
    guard mount(nil, readOnly, nil, UInt(MS_REMOUNT | MS_BIND | MS_RDONLY), nil) == 0 else {
      throw XCTSkip("cannot remount read-only here: \(String(cString: strerror(errno)))")
    }
    let outcome = try lomo(trainArguments(data, steps: 2, output: readOnly))
    XCTAssertEqual(outcome.status, 1)
    XCTAssertTrue(outcome.stderr.contains("\(readOnly): the output folder is not writable (\(readOnly)/.lock: Read-only file system)"), outcome.stderr)
    XCTAssertFalse(outcome.stderr.contains("NSCocoaErrorDomain"), outcome.stderr)
  }
}

extension ProcessTests {
  /// With evaluation data the starting model is evaluated first and competes for best/; every
  /// evaluation is a line of the metrics file; when the last step is the best, best/ is a link
  /// to final/ instead of a second copy.
  func testBestCompetesWithTheStartAndLinksToFinal() throws {
    _ = try TestModels.defaultSource()
    let data = try writeData(count: 4)
    let metrics = scratch("metrics.jsonl")
    let run = try lomo(trainArguments(data, steps: 4) + ["--eval-data", data, "--eval-every", "2", "--metrics", metrics])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(run.stderr.contains("step 0: eval loss"), run.stderr)
    let evaluations = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n")
      .filter { $0.contains("eval_loss") }
    XCTAssertEqual(evaluations.map { $0.firstMatch(of: /"step":(\d+)/).map { String($0.1) } }, ["0", "2", "4"])
    XCTAssertTrue(evaluations.last!.contains(#""best":true"#), "the trained-on data's loss falls: \(evaluations)")
    XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: scratch("run/best")), "final")
    XCTAssertTrue(run.stdout.contains("(a link to final/)"), run.stdout)

    // The run record, its model card and plot; the fine-tune's name in the GGUF.
    let record = try RunRecord.read(scratch("run/run.json"))
    XCTAssertEqual(record.status, .finished)
    XCTAssertEqual(record.data, try DataFingerprint(path: data))
    XCTAssertEqual(record.data.lines, 4)
    XCTAssertEqual(record.options.learningRate, 0.01)
    XCTAssertEqual(record.result?.steps, 4)
    XCTAssertEqual(record.result?.bestEvaluation?.step, 4)
    XCTAssertEqual(record.result?.finalModel, scratch("run/final/model.gguf"))
    let card = try String(contentsOfFile: scratch("run/README.md"), encoding: .utf8)
    XCTAssertTrue(card.hasPrefix("# run\n"), card)
    let svg = try String(contentsOfFile: scratch("run/run.svg"), encoding: .utf8)
    XCTAssertEqual(svg.matches(of: /<circle/).count, 3, "three evaluations")
    let metadata = try GGUFFile(path: scratch("run/final/model.gguf")).metadata
    XCTAssertEqual(try metadata.value("general.name").stringValue, "run")
    let base = try GGUFFile(path: TestModels.defaultSource().path).metadata
    XCTAssertEqual(try metadata.value("general.base_model.0.name").stringValue,
                   try base.value("general.name").stringValue)
  }

  /// `--save-every 2 --keep-checkpoints 2` over 5 steps: checkpoints at steps 2 and 4, the
  /// earlier kept as checkpoint-2; the finished run removes the newest (no --keep-checkpoint)
  /// and keeps the one asked for.
  func testPeriodicCheckpointsAreKeptAsAsked() throws {
    _ = try TestModels.defaultSource()
    let data = try writeData(count: 4)
    let run = try lomo(trainArguments(data, steps: 5) + ["--save-every", "2", "--keep-checkpoints", "2"])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(run.stderr.contains("removed \(scratch("run/checkpoint")): the run is finished"), run.stderr)
    XCTAssertEqual(TemporaryDirectory.contents(of: scratch("run")).filter { $0.hasPrefix("checkpoint") }, ["checkpoint-2"])
    XCTAssertEqual(try ResumeCheckpoint.loadState(from: URL(fileURLWithPath: scratch("run/checkpoint-2"))).step, 2)
  }

  /// A run that fails after it started leaves a record saying so, with the error.
  func testAFailedRunIsRecordedAsFailed() throws {
    _ = try TestModels.defaultSource()
    let data = try writeData(count: 4)
    let failed = try lomo(trainArguments(data, steps: 4) + ["--lr", "1e30"])
    XCTAssertEqual(failed.status, 1, failed.stderr)
    let record = try RunRecord.read(scratch("run/run.json"))
    XCTAssertEqual(record.status, .failed)
    XCTAssertTrue(record.error?.contains("training diverged") ?? false, "\(record)")
    XCTAssertNil(record.result)
  }
}
