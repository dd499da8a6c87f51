import Foundation
import LomoCore
import LomoModel
import LomoTestSupport
import XCTest

/// lomo under Open MPI's `mpirun` on this machine: several real processes and their
/// collectives.
final class MPIProcessTests: XCTestCase {
  var scratch: TemporaryDirectory!
  var directory: URL { scratch.url }

  override func setUpWithError() throws {
    scratch = try temporaryDirectory("cli-mpi")
    guard FileManager.default.isExecutableFile(atPath: lomoExecutable.path) else {
      throw XCTSkip("no lomo executable at \(lomoExecutable.path); build it first (swift build)")
    }
  }

  func mpirun(_ ranks: Int, _ arguments: [String]) throws -> Outcome {
    try mpirunLomo(ranks, arguments, in: directory)
  }

  func testEveryCollectiveAgreesOnThreeRanks() throws {
    let check = try mpirun(3, ["cluster-check", "--megabytes", "1", "--repeats", "1"])
    XCTAssertEqual(check.status, 0, check.stderr)
    XCTAssertTrue(check.stdout.contains("world of 3 ranks"), check.stdout)
    XCTAssertTrue(check.stdout.contains("rank 2 on "), check.stdout)
    XCTAssertTrue(check.stdout.contains("agree on every rank"), check.stdout)
    XCTAssertEqual(check.stdout.components(separatedBy: "world of").count, 2, "only rank 0 prints")
  }

  /// `lomo eval` of the default model sharded over 2 ranks scores as one process does.
  func testEvalOnTwoRanksScoresAsOneProcess() throws {
    _ = try TestModels.defaultSource()
    let lines = (0..<6).map { i in
      "{\"prompt\": \"Is \(100 + 7 * i) even or odd? Answer:\", \"choices\": [\" even\", \" odd\"], \"label\": \((100 + 7 * i) % 2)}"
    }
    let data = try scratch.write(lines.joined(separator: "\n"), "mc.jsonl")
    let one = try launch(lomoExecutable, ["eval", "--data", data, "--threads", "1"], in: directory)
    let two = try mpirun(2, ["eval", "--data", data, "--threads", "1"])
    XCTAssertEqual(one.status, 0, one.stderr)
    XCTAssertEqual(two.status, 0, two.stderr)
    let accuracy = { (o: Outcome) in o.stdout.split(separator: "\n").first { $0.contains("accuracy") } }
    XCTAssertNotNil(accuracy(one))
    XCTAssertEqual(accuracy(one), accuracy(two), "only rank 0 prints, the same score")
  }

  /// The multi-host check: SmolLM2 trained on 2 pretend hosts over TCP equals one process
  /// (`scripts/cluster-train.sh`). Needs root, iproute2, the cluster scripts beside the
  /// repository (../shared/cluster) and the default model.
  func testSmolLM2OnTwoPretendHostsEqualsOneProcess() throws {
    _ = try TestModels.defaultSource()
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let cluster = root.deletingLastPathComponent().appendingPathComponent("shared/cluster")
    guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip"),
          FileManager.default.fileExists(atPath: cluster.appendingPathComponent("netns-cluster.sh").path)
    else { throw XCTSkip("needs root, iproute2 and \(cluster.path)") }
    let run = try launch(URL(fileURLWithPath: "/bin/bash"), [root.appendingPathComponent("scripts/cluster-train.sh").path],
                         in: directory, environment: ["LOMO_CLUSTER": cluster.path])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(run.stderr.contains("2 hosts equal one process"), run.stderr)
  }

  /// A failed save of final/ on 2 ranks (the source GGUF, whose metadata the export copies,
  /// removed mid-run): every rank keeps its part in OUTPUT/checkpoint, rank 0 names the cause,
  /// and the job ends instead of waiting.
  func testAFailedFinalSaveOnTwoRanksKeepsTheirCheckpoint() throws {
    let source = try TestModels.defaultSource().path
    let model = directory.appendingPathComponent("model.gguf").path
    try FileManager.default.copyItem(atPath: source, toPath: model)
    let lines = (0..<8).map { i in
      "{\"input_ids\": [" + (0..<12).map { "\(100 + (i * 7 + $0 * 13) % 500)" }.joined(separator: ", ") + "]}"
    }
    let data = try scratch.write(lines.joined(separator: "\n"), "train.jsonl")
    let failed = try mpirunLomo(
      2, ["train", "--model", model, "--data", data, "--max-steps", "40", "--batch-size", "1", "--lr", "0.01",
          "--threads", "1", "--output", "run"],
      in: directory
    ) { _, stderr in
      if read(stderr, until: "step 10/40") { try? FileManager.default.removeItem(atPath: model) }
    }
    XCTAssertNotEqual(failed.status, 0)
    XCTAssertTrue(failed.stderr.contains("rank 0 of 2 on"), failed.stderr)
    XCTAssertTrue(failed.stderr.contains("model.gguf: No such file or directory"), failed.stderr)
    for rank in 0..<2 {
      XCTAssertTrue(FileManager.default.fileExists(
        atPath: directory.appendingPathComponent("run/checkpoint/rank-\(rank)-of-2/state.json").path))
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/final").path))
  }

  /// A rank that fails ends the job: its error names the rank, and mpirun's status is not 0.
  func testAFailingRankEndsEveryRank() throws {
    let start = Date()
    let failed = try mpirun(2, ["cluster-check", "--megabytes", "0"])
    XCTAssertNotEqual(failed.status, 0)
    XCTAssertTrue(failed.stderr.contains("--megabytes must be in 1...1024"), failed.stderr)
    XCTAssertLessThan(Date().timeIntervalSince(start), 60)
  }
}

/// Sharded training (ZeRO-3 over mpirun) against one process on the same global batch.
final class ShardedTrainingTests: XCTestCase {
  var scratch: TemporaryDirectory!
  var directory: URL { scratch.url }
  var model = ""
  var data = ""

  override func setUpWithError() throws {
    scratch = try temporaryDirectory("cli-sharded")
    guard FileManager.default.isExecutableFile(atPath: lomoExecutable.path) else {
      throw XCTSkip("no lomo executable at \(lomoExecutable.path); build it first (swift build)")
    }
    model = try TestModels.tinyLlamaFolder(in: directory)
    // 12 sequences of 5 to 20 tokens: the ranks' slices have different lengths.
    var rng = Xoshiro256(seed: 5)
    let lines = (0..<12).map { _ in
      let n = 5 + Int(rng.next() % 16)
      return "{\"input_ids\": [" + (0..<n).map { _ in "\(3 + rng.next() % 250)" }.joined(separator: ", ") + "]}"
    }
    data = try scratch.write(lines.joined(separator: "\n"), "train.jsonl")
  }

  /// `lomo train` of the tiny model on `ranks` ranks (none: no mpirun), each step 6 examples
  /// in all; returns the final parameters.
  func train(ranks: Int?, _ options: [String], output: String, format: String = "safetensors") throws -> Outcome {
    let perRank = 6 / (ranks ?? 1)
    let arguments = ["train", "--model", model, "--data", data, "--max-steps", "3", "--batch-size", "\(perRank)",
                     "--max-seq-len", "64", "--threads", "1", "--save-format", format, "--output", output] + options
    guard let ranks else { return try launch(lomoExecutable, arguments, in: directory) }
    return try mpirunLomo(ranks, arguments, in: directory)
  }

  func finalParameters(_ output: String) throws -> LlamaParameters {
    try ModelSource.huggingFace(directory.appendingPathComponent("\(output)/final").path).loadParameters(dtype: .f32)
  }

  /// Every tensor of `a` and `b` within `tolerance` relative to the tensor's largest value.
  func assertClose(_ a: LlamaParameters, _ b: LlamaParameters, tolerance: Float, _ what: String) {
    for (x, y) in zip(a.all, b.all) {
      let u = x.floats, v = y.floats
      let scale = max(u.map(abs).max() ?? 0, 1e-30)
      let worst = zip(u, v).map { abs($0 - $1) }.max() ?? 0
      XCTAssertLessThanOrEqual(worst / scale, tolerance, "\(what): \(x.id)")
    }
  }

  func assertShardedEqualsOneProcess(_ options: [String], _ what: String, ranks counts: [Int] = [2, 3]) throws {
    let one = try train(ranks: nil, options, output: "one")
    XCTAssertEqual(one.status, 0, one.stderr)
    let reference = try finalParameters("one")
    let base = try ModelSource.huggingFace(model).loadParameters(dtype: .f32)
    XCTAssertGreaterThan(zip(reference.embedding.floats, base.embedding.floats).map { abs($0 - $1) }.max() ?? 0, 1e-5,
                         "\(what): training moved nothing (the comparison would prove nothing)")
    for ranks in counts {
      let run = try train(ranks: ranks, options, output: "ranks\(ranks)")
      XCTAssertEqual(run.status, 0, run.stderr)
      XCTAssertTrue(run.stderr.contains("over \(ranks) ranks"), run.stderr)
      assertClose(try finalParameters("ranks\(ranks)"), reference, tolerance: 1e-6, "\(what), \(ranks) ranks")
    }
  }

  func testLOMOWithGlobalNormClippingOnTwoAndThreeRanksEqualsOneProcess() throws {
    try assertShardedEqualsOneProcess(["--optimizer", "lomo", "--lr", "0.01", "--clip-grad-norm", "1.0"], "LOMO, clip 1.0")
  }

  /// The families' own tensors (Qwen2's biases, Gemma 3's four norms and q/k norms) are
  /// sharded, gathered and reduce-scattered as LLaMA's.
  func testQwen2AndGemma3OnTwoRanksEqualOneProcess() throws {
    for family in ["qwen2", "gemma3"] {
      model = try TestModels.tinyLlamaFolder(in: directory, family: family)
      try assertShardedEqualsOneProcess(["--optimizer", "lomo", "--lr", "0.01", "--clip-grad-norm", "1.0", "--overwrite"],
                                        "\(family), LOMO, clip 1.0", ranks: [2])
    }
  }

  func testAdaLomoOnTwoAndThreeRanksEqualsOneProcess() throws {
    try assertShardedEqualsOneProcess(["--lr", "0.01", "--optimizer", "adalomo"], "AdaLomo")
  }

  /// bf16 with stochastic rounding: two runs on 2 ranks give identical bits.
  func testBF16OnTwoRanksIsDeterministic() throws {
    for output in ["a", "b"] {
      let run = try train(ranks: 2, ["--lr", "0.01", "--dtype", "bf16"], output: output)
      XCTAssertEqual(run.status, 0, run.stderr)
    }
    let a = try Data(contentsOf: directory.appendingPathComponent("a/final/model.safetensors"))
    let b = try Data(contentsOf: directory.appendingPathComponent("b/final/model.safetensors"))
    XCTAssertEqual(a, b)
  }

  /// The model rank 0 assembles from the shards is the file one process writes: at lr 0 the
  /// weights stay exactly the loaded ones, so both exports must be byte-identical (GGUF too,
  /// with its Q/K row order).
  func testTheExportOfTwoRanksEqualsTheOneProcessExport() throws {
    for format in ["safetensors", "gguf"] {
      // Outputs of one name: it is the GGUF's general.name.
      XCTAssertEqual(try train(ranks: nil, ["--lr", "0"], output: "one/\(format)", format: format).status, 0)
      let two = try train(ranks: 2, ["--lr", "0"], output: "two/\(format)", format: format)
      XCTAssertEqual(two.status, 0, two.stderr)
      let file = format == "gguf" ? "model.gguf" : "model.safetensors"
      let a = try Data(contentsOf: directory.appendingPathComponent("one/\(format)/final/\(file)"))
      let b = try Data(contentsOf: directory.appendingPathComponent("two/\(format)/final/\(file)"))
      XCTAssertEqual(a, b, format)
    }
  }
}

/// What sharding does to a rank's memory and what a failing rank does to the job.
extension ShardedTrainingTests {
  /// Bytes of a "peak <category>" row of the summary ("184.6 KiB").
  func peak(_ category: String, in summary: String) throws -> Double {
    let line = try XCTUnwrap(summary.split(separator: "\n").first { $0.contains("peak \(category) ") }, category)
    let fields = line.split(separator: " ")
    let value = try XCTUnwrap(Double(fields[fields.count - 2]))
    let unit = ["B": 1.0, "KiB": 1024.0, "MiB": 1048576.0][String(fields.last!)]
    return value * (try XCTUnwrap(unit))
  }

  /// Rank 0's ledger: half the parameters of one process (the tiny model's rows split evenly
  /// in two), plus two whole layers, the [V, C] LM head and the final norm gathered.
  func testEachRankHoldsItsShareOfTheParametersPlusTheGatheredLayers() throws {
    let one = try train(ranks: nil, ["--lr", "0.01"], output: "one")
    let two = try train(ranks: 2, ["--lr", "0.01"], output: "two")
    XCTAssertEqual(two.status, 0, two.stderr)
    let whole = try peak("parameters", in: one.stdout), half = try peak("parameters", in: two.stdout)
    XCTAssertEqual(half / whole, 0.5, accuracy: 0.001)
    XCTAssertFalse(one.stdout.contains("gatheredWeights"), "one process gathers nothing")
    let c = try TestModels.tinyLlama().config
    let layer = 2 * c.hiddenSize + c.hiddenSize * (c.queryDim + 2 * c.kvDim) + c.queryDim * c.hiddenSize
      + 3 * c.intermediateSize * c.hiddenSize
    let gathered = Double(4 * (2 * layer + c.vocabSize * c.hiddenSize + c.hiddenSize))
    XCTAssertEqual(try peak("gatheredWeights", in: two.stdout) / gathered, 1, accuracy: 0.001)
  }

  /// A rank killed mid-run ends the job within seconds, mpirun names it, and no final model
  /// appears.
  func testARankKilledMidStepEndsTheOthers() throws {
    var killedAt: Date?
    let run = try mpirunLomo(
      2, ["train", "--model", model, "--data", data, "--max-steps", "1000000", "--batch-size", "3",
          "--max-seq-len", "64", "--threads", "1", "--output", "run"],
      in: directory
    ) { mpirun, stderr in
      guard read(stderr, until: "step 20/") else { return }
      // mpirun's children are the two ranks; kill the younger one.
      let ranks = Self.children(of: mpirun.processIdentifier)
      guard let victim = ranks.max() else { return XCTFail("no ranks under mpirun") }
      kill(victim, SIGKILL)
      killedAt = Date()
    }
    let ended = try XCTUnwrap(killedAt)
    XCTAssertLessThan(Date().timeIntervalSince(ended), 30)
    XCTAssertNotEqual(run.status, 0)
    XCTAssertTrue(run.stderr.contains("exited on signal 9"), run.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/final").path))
  }

  /// SIGUSR1 to mpirun (which forwards it to the ranks) stops a 2-rank run with a checkpoint of
  /// every rank's part; resuming it on 2 ranks ends bit-identical to an uninterrupted run, and
  /// another number of ranks is refused naming the right one.
  func testAnInterruptedRunOfTwoRanksResumesBitExactly() throws {
    let arguments = ["train", "--model", model, "--data", data, "--max-steps", "3000", "--batch-size", "3",
                     "--max-seq-len", "64", "--threads", "1", "--save-format", "safetensors", "--lr", "0.001"]
    func mpirun(_ ranks: Int, _ extra: [String], whileRunning: ((Process, FileHandle) -> Void)? = nil) throws -> Outcome {
      try mpirunLomo(ranks, arguments + extra, in: directory, whileRunning: whileRunning)
    }
    let interrupted = try mpirun(2, ["--output", "run"]) { mpirun, stderr in
      if read(stderr, until: "step 20/") { kill(mpirun.processIdentifier, SIGUSR1) }
    }
    XCTAssertEqual(interrupted.status, 130, interrupted.stderr)
    XCTAssertTrue(interrupted.stderr.contains("resume with the same options plus: --resume"), interrupted.stderr)
    let checkpoint = directory.appendingPathComponent("run/checkpoint")
    for rank in 0..<2 {
      XCTAssertTrue(FileManager.default.fileExists(
        atPath: checkpoint.appendingPathComponent("rank-\(rank)-of-2/state.json").path))
    }
    let wrongRanks = try mpirun(3, ["--batch-size", "2", "--output", "run", "--resume", checkpoint.path])
    XCTAssertNotEqual(wrongRanks.status, 0)
    XCTAssertTrue(wrongRanks.stderr.contains("it was written by 2 ranks; resume it with mpirun -n 2"), wrongRanks.stderr)

    let resumed = try mpirun(2, ["--output", "run", "--resume", checkpoint.path])
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    let whole = try mpirun(2, ["--output", "whole"])
    XCTAssertEqual(whole.status, 0, whole.stderr)
    XCTAssertEqual(try Data(contentsOf: directory.appendingPathComponent("run/final/model.safetensors")),
                   try Data(contentsOf: directory.appendingPathComponent("whole/final/model.safetensors")))
  }

  /// The process ids whose parent is `parent` (from /proc).
  static func children(of parent: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
      guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")") else { return false }
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      return fields.count > 1 && Int32(fields[1]) == parent
    }
  }
}

/// `mpirun -n ranks lomo arguments` in `directory` on localhost: Open MPI as root too, more
/// ranks than cores, shared memory or TCP between them; `whileRunning` as for `launch`.
func mpirunLomo(_ ranks: Int, _ arguments: [String], in directory: URL,
                whileRunning: ((Process, FileHandle) -> Void)? = nil) throws -> Outcome {
  try launch(URL(fileURLWithPath: "/usr/bin/env"),
             ["mpirun", "--oversubscribe", "-n", "\(ranks)", lomoExecutable.path] + arguments, in: directory,
             environment: ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                           "OMPI_MCA_btl": "self,vader,tcp"],
             whileRunning: whileRunning)
}
