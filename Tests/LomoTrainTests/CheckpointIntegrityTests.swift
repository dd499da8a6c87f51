import Foundation
import LomoCore
import LomoModel
import LomoTrain
import LomoTestSupport
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Damaged and tampered checkpoints are refused by name before the model changes; a checkpoint
/// that cannot be written (a full disk) throws and leaves nothing behind.
final class CheckpointIntegrityTests: XCTestCase {
  var scratch: TemporaryDirectory!
  var checkpoint: URL { scratch.url.appendingPathComponent("checkpoint") }
  var statePath: String { checkpoint.appendingPathComponent("state.json").path }
  var tensorsPath: String { checkpoint.appendingPathComponent("tensors.bin").path }

  override func setUpWithError() throws { scratch = try temporaryDirectory("checkpoint") }

  func trainer(_ optimizer: OptimizerKind = .lomo) throws -> Trainer {
    try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama()),
                examples: TinyModel.examples(count: 10), padToken: 0,
                options: TinyModel.options(optimizer, steps: 6))
  }

  /// Trains 4 steps (3 batches per epoch: epoch 1, position 1) and writes the checkpoint.
  func writeCheckpoint(_ optimizer: OptimizerKind = .lomo) throws {
    let t = try trainer(optimizer)
    try t.run(stopAfter: 4)
    try t.saveCheckpoint(to: checkpoint)
  }

  /// Resuming a fresh trainer fails with a message holding every one of `needles`, and the
  /// model is left as it was.
  func assertRefused(_ needles: [String], optimizer: OptimizerKind = .lomo,
                     file: StaticString = #filePath, line: UInt = #line) throws {
    let fresh = try trainer(optimizer)
    let before = fresh.model.parameters.storageBits
    XCTAssertThrowsError(try fresh.resume(from: checkpoint), file: file, line: line) { error in
      for needle in needles {
        XCTAssertTrue("\(error)".contains(needle), "\(error) lacks \(needle)", file: file, line: line)
      }
    }
    XCTAssertEqual(fresh.model.parameters.storageBits, before, "a refused resume changed the model",
                   file: file, line: line)
    XCTAssertEqual(fresh.step, 0, file: file, line: line)
  }

  /// Rewrites state.json with `edit` applied to its parsed object.
  func tamper(_ edit: (inout [String: Any]) -> Void) throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: statePath))
    var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    edit(&object)
    try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: statePath))
  }

  func tamperState(_ key: String, _ value: Any) throws {
    try tamper { object in
      var state = object["state"] as! [String: Any]
      state[key] = value
      object["state"] = state
    }
  }

  func testCheckpointIsVersion2WithAChecksumPerTensor() throws {
    try writeCheckpoint(.adamw)
    let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statePath))) as? [String: Any])
    XCTAssertEqual((object["state"] as? [String: Any])?["version"] as? Int, 2)
    let tensors = try XCTUnwrap(object["tensors"] as? [[String: Any]])
    XCTAssertTrue(tensors.contains { ($0["name"] as? String)?.hasPrefix("optimizer/") == true })
    for t in tensors {
      XCTAssertEqual((t["checksum"] as? String)?.count, 16, "\(t)")
    }
    let fresh = try trainer(.adamw)
    try fresh.resume(from: checkpoint)
    XCTAssertEqual(fresh.step, 4)
  }

  func testCorruptTensorsAreRefusedByName() throws {
    try writeCheckpoint()
    let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: tensorsPath))
    try handle.seek(toOffset: 4096)
    try handle.write(contentsOf: Data(repeating: 0xFF, count: 4096))
    try handle.close()
    try assertRefused(["tensors.bin", "is corrupt", "checksum"])
  }

  func testCorruptOptimizerArraysAreRefusedByName() throws {
    try writeCheckpoint(.adamw)
    let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: tensorsPath)[.size] as? Int)
    let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: tensorsPath))
    try handle.seek(toOffset: UInt64(size - 4))  // the last optimizer array's last value
    try handle.write(contentsOf: Data([0x7F, 0xC0, 0, 0]))
    try handle.close()
    try assertRefused(["tensors.bin", "optimizer/", "is corrupt"], optimizer: .adamw)
  }

  func testTruncatedTensorsAreRefused() throws {
    try writeCheckpoint()
    let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: tensorsPath))
    try handle.truncate(atOffset: 1000)
    try handle.close()
    try assertRefused(["tensors.bin", "lies outside the file's 1000 bytes"])
  }

  func testEveryTamperedStateFieldIsRefusedByName() throws {
    try writeCheckpoint()
    let original = try Data(contentsOf: URL(fileURLWithPath: statePath))
    let cases: [(String, Any)] = [
      ("position", -1), ("position", 3), ("step", -1), ("step", Int.max), ("step", 5), ("epoch", -1),
      ("epoch", Int.max / 2), ("tokensSeen", -5), ("elapsedSeconds", -1.0), ("version", 0),
      ("version", 3),
    ]
    for (field, value) in cases {
      try original.write(to: URL(fileURLWithPath: statePath))
      try tamperState(field, value)
      try assertRefused(["state.json", "field '\(field)' is \(value)"])
    }
  }

  func testTamperedLossScalerIsRefusedByName() throws {
    var o = TinyModel.options(.lomo, dtype: .f16, steps: 6)
    o.length = .maxSteps(6)
    let t = try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama(dtype: .f16)),
                        examples: TinyModel.examples(count: 10), padToken: 0, options: o)
    try t.run(stopAfter: 2)
    try t.saveCheckpoint(to: checkpoint)
    try tamper { object in
      var state = object["state"] as! [String: Any]
      var scaler = state["lossScaler"] as! [String: Any]
      scaler["factor"] = 0.5
      state["lossScaler"] = scaler
      object["state"] = state
    }
    let fresh = try Trainer(model: LlamaModel(parameters: try TestModels.tinyLlama(dtype: .f16)),
                            examples: TinyModel.examples(count: 10), padToken: 0, options: o)
    XCTAssertThrowsError(try fresh.resume(from: checkpoint)) { error in
      XCTAssertTrue("\(error)".contains("'lossScaler.factor' is 0.5"), "\(error)")
    }
  }

  func testMissingOrMalformedChecksumIsRefused() throws {
    try writeCheckpoint()
    try tamper { object in
      var tensors = object["tensors"] as! [[String: Any]]
      tensors[0]["checksum"] = "not-hex-at-all!!"
      object["tensors"] = tensors
    }
    try assertRefused(["tensors.bin", "no valid checksum", "'checksum'"])
  }

  /// Checkpoints of the first format (no checksums) still resume.
  func testVersion1CheckpointStillResumes() throws {
    try writeCheckpoint()
    try tamper { object in
      var state = object["state"] as! [String: Any]
      state["version"] = 1
      object["state"] = state
      object["tensors"] = (object["tensors"] as! [[String: Any]]).map { t in
        var t = t
        t["checksum"] = nil
        return t
      }
    }
    let fresh = try trainer()
    try fresh.resume(from: checkpoint)
    XCTAssertEqual(fresh.step, 4)
  }

  func testChecksumSeesEveryByte() {
    for count in [0, 1, 7, 8, 31, 32, 33, 100] {
      var bytes = [UInt8](repeating: 0x5A, count: count)
      let base = bytes.withUnsafeBytes { Checksum64($0) }
      XCTAssertEqual(Checksum64(hex: base.description), base)
      for i in 0..<count {
        bytes[i] ^= 1
        XCTAssertNotEqual(bytes.withUnsafeBytes { Checksum64($0) }, base, "byte \(i) of \(count)")
        bytes[i] ^= 1
      }
      let longer = (bytes + [0]).withUnsafeBytes { Checksum64($0) }
      XCTAssertNotEqual(longer, base, "a trailing zero byte of \(count)")
    }
    XCTAssertNil(Checksum64(hex: "+123456789abcdef"))
  }

  /// A tmpfs too small for the checkpoint: the save throws naming the full disk and leaves no
  /// temporary folder (skipped where mounting is not permitted).
  func testFullDiskCheckpointThrowsAndLeavesNothing() throws {
    let mountPoint = scratch.url.appendingPathComponent("small").path
    try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
    guard mount("tmpfs", mountPoint, "tmpfs", 0, "size=64k") == 0 else {
      throw XCTSkip("cannot mount a tmpfs here: \(String(cString: strerror(errno)))")
    }
    defer { umount(mountPoint) }
    let t = try trainer()
    try t.run(stopAfter: 1)
    let target = URL(fileURLWithPath: mountPoint).appendingPathComponent("checkpoint")
    XCTAssertThrowsError(try t.saveCheckpoint(to: target)) { error in
      XCTAssertTrue("\(error)".contains("the disk is full"), "\(error)")
      XCTAssertTrue("\(error)".contains("tensors.bin"), "\(error)")
    }
    XCTAssertEqual(TemporaryDirectory.contents(of: mountPoint), [], "a temporary folder was left")
  }
}
