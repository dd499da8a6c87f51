import Foundation
import LomoCore
import LomoFormats
import LomoTestSupport
import XCTest

final class GGUFWriterTests: XCTestCase {
  func floats(_ bytes: [UInt8]) -> [Float] {
    bytes.withUnsafeBytes { raw in (0..<bytes.count / 4).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
  }

  /// scripts/make_q8_0_fixture.py: gguf.quants.quantize on tiny-llama weights and edge blocks
  /// (zero block, .5 ties, one value, near-f16-max and sub-f16 scales).
  func testQ8_0MatchesGGUFPyBitForBit() throws {
    let input = floats(try FixtureFiles.bytes("q8_0-input", "f32"))
    let expected = try FixtureFiles.bytes("q8_0-expected", "bin")
    XCTAssertEqual(input.count, 10784)
    let ours = Quantize.encode(.q8_0, input)
    XCTAssertEqual(ours.count, expected.count)
    let firstDifference = zip(ours, expected).enumerated().first { $0.element.0 != $0.element.1 }
    XCTAssertNil(firstDifference.map { "byte \($0.offset) (block \($0.offset / 34)): \($0.element.0) vs gguf-py \($0.element.1)" })
  }

  func testF16AndBF16EncodingsRoundToNearestEven() {
    let values: [Float] = [1, -2.5, 1 + 1 / 2048, 1 + 3 / 2048, 1e-8, 70000, .pi]
    let f16 = Quantize.encode(.f16, values)
    let bf16 = Quantize.encode(.bf16, values)
    for (i, v) in values.enumerated() {
      let h = UInt16(f16[2 * i]) | UInt16(f16[2 * i + 1]) << 8
      let b = UInt16(bf16[2 * i]) | UInt16(bf16[2 * i + 1]) << 8
      XCTAssertEqual(h, Float16(v).bitPattern, "f16 of \(v)")
      XCTAssertEqual(b, BFloat16(v).bitPattern, "bf16 of \(v)")
    }
    // Ties to even: 1 + 1/2048 is halfway between 1 and 1 + 1/1024 in f16.
    XCTAssertEqual(Float(Float16(bitPattern: UInt16(f16[4]) | UInt16(f16[5]) << 8)), 1)
  }

  static let allValues: [(String, GGUFValue)] = [
    ("test.u8", .uint8(200)), ("test.i8", .int8(-100)), ("test.u16", .uint16(60000)),
    ("test.i16", .int16(-30000)), ("test.u32", .uint32(4_000_000_000)), ("test.i32", .int32(-2_000_000_000)),
    ("test.u64", .uint64(1 << 60)), ("test.i64", .int64(-(1 << 60))), ("test.f32", .float32(1e-5)),
    ("test.f64", .float64(-1.25e300)), ("test.bool", .bool(true)), ("test.string", .string("héllo {{ chat }}\n")),
    ("test.empty", .string("")),
    ("test.strings", .array(.string, [.string("a"), .string(""), .string("Ġthe"), .string("<|im_end|>")])),
    ("test.ints", .array(.int32, [.int32(1), .int32(-3)])),
    ("test.floats", .array(.float32, [.float32(0.5), .float32(-1)])),
    ("test.noarray", .array(.uint8, [])),
    ("test.nested", .array(.array, [.array(.uint16, [.uint16(7)]), .array(.string, [.string("x")])])),
  ]

  func sampleWriter() -> (GGUFWriter, [String: [Float]]) {
    var w = GGUFWriter()
    for (k, v) in Self.allValues { w.set(k, v) }
    var rng = Xoshiro256(seed: 7)
    func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -2...2, using: &rng) } }
    let values = ["norm": random(64), "a": random(3 * 64), "b": random(5 * 32), "c": random(2 * 64), "d": random(4 * 96)]
    w.addTensor("norm", shape: [64], type: .f32, values: values["norm"]!)
    w.addTensor("a", shape: [3, 64], type: .f16, values: values["a"]!)
    w.addTensor("b", shape: [5, 32], type: .bf16, values: values["b"]!)
    let c = values["c"]!
    w.addTensor("c", shape: [2, 64], type: .f32) { out in _ = out.initialize(from: c) }
    w.addTensor("d", shape: [1, 4, 96], type: .q8_0, values: values["d"]!)
    return (w, values)
  }

  func testRoundTripThroughOurReaderKeepsEveryValueTypeAndTensor() throws {
    let dir = try TemporaryDirectory("gguf")
    let path = dir.url.appendingPathComponent("out.gguf").path
    let (w, values) = sampleWriter()
    try w.write(to: path)
    let file = try GGUFFile(path: path)
    XCTAssertEqual(file.version, 3)
    XCTAssertEqual(file.alignment, 32)
    XCTAssertEqual(file.metadata.keys, ["general.alignment"] + Self.allValues.map(\.0))
    XCTAssertEqual(file.metadata["general.alignment"], .uint32(32))
    for (k, v) in Self.allValues { XCTAssertEqual(file.metadata[k], v, k) }
    XCTAssertEqual(file.tensors.map(\.name), ["norm", "a", "b", "c", "d"])
    XCTAssertEqual(file.tensors.map(\.type), [.f32, .f16, .bf16, .f32, .q8_0])
    XCTAssertEqual(file.tensors[4].shape, [1, 4, 96])
    XCTAssertEqual(file.tensors[4].dims, [96, 4, 1])
    for t in file.tensors { XCTAssertEqual(t.offset % 32, 0, t.name) }
    XCTAssertEqual(file.dataOffset % 32, 0)
    XCTAssertEqual(file.fileSize % 32, 0, "the last tensor is padded, as gguf.cpp reads padded sizes")
    XCTAssertEqual(try file.tensorData("norm"), values["norm"]!)
    XCTAssertEqual(try file.tensorData("c"), values["c"]!)
    XCTAssertEqual(try file.tensorData("a"), values["a"]!.map { Float(Float16($0)) })
    XCTAssertEqual(try file.tensorData("b"), values["b"]!.map { BFloat16($0).float })
    let q = Quantize.encode(.q8_0, values["d"]!)
    var dequantised = [Float](repeating: 0, count: values["d"]!.count)
    q.withUnsafeBytes { Dequantize.toFloat(.q8_0, from: $0.baseAddress!, count: dequantised.count, into: &dequantised) }
    XCTAssertEqual(try file.tensorData("d"), dequantised)
    let worst = zip(dequantised, values["d"]!).map { abs($0 - $1) }.max()!
    XCTAssertLessThan(worst, 2.0 / 127 * 0.51 + 1e-3)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path), ["out.gguf"])
  }

  func testExistingDestinationIsKeptWithoutOverwriteAndReplacedWithIt() throws {
    let dir = try TemporaryDirectory("gguf")
    let path = try dir.write(Array("precious".utf8), "model.gguf")
    let (w, _) = sampleWriter()
    XCTAssertThrowsError(try w.write(to: path)) {
      XCTAssertEqual($0 as? FileWriteError, FileWriteError(path: path, problem: .destinationExists))
      XCTAssertTrue("\($0)".contains(path))
    }
    XCTAssertEqual(try FixtureBytes.read(path), Array("precious".utf8))
    try w.write(to: path, overwrite: true)
    XCTAssertEqual(try GGUFFile(path: path).tensors.count, 5)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path), ["model.gguf"])
  }

  func testFailureMidWriteLeavesTheOldFileAndNoTemporaryFile() throws {
    struct Boom: Error {}
    let dir = try TemporaryDirectory("gguf")
    let path = try dir.write(Array("precious".utf8), "model.gguf")
    var (w, _) = sampleWriter()
    w.addTensor("late", shape: [32], type: .f32) { _ in throw Boom() }
    XCTAssertThrowsError(try w.write(to: path, overwrite: true)) { error in
      guard case .tensorSource(let name, _)? = (error as? FileWriteError)?.problem else {
        return XCTFail("expected tensorSource, got \(error)")
      }
      XCTAssertEqual(name, "late")
      XCTAssertEqual((error as? FileWriteError)?.path, path)
    }
    XCTAssertEqual(try FixtureBytes.read(path), Array("precious".utf8))
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path), ["model.gguf"])
  }

  func testUnwritableDestinationIsATypedErrorNamingThePath() throws {
    let dir = try TemporaryDirectory("gguf")
    let notAFolder = try dir.write([1, 2, 3], "plain-file")
    let path = notAFolder + "/model.gguf"
    let (w, _) = sampleWriter()
    XCTAssertThrowsError(try w.write(to: path)) { error in
      guard let e = error as? FileWriteError, case .io(let operation, _, _) = e.problem else {
        return XCTFail("expected an io error, got \(error)")
      }
      XCTAssertEqual(e.path, path)
      XCTAssertEqual(operation, "create")
    }
    // A folder in the way is refused even with overwrite, and survives.
    let folder = dir.url.appendingPathComponent("folder").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
    XCTAssertThrowsError(try w.write(to: folder, overwrite: true)) { XCTAssertEqual(($0 as? FileWriteError)?.path, folder) }
    var isDirectory: ObjCBool = false
    XCTAssertTrue(FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted(), ["folder", "plain-file"])
  }

  func testInconsistentTensorsAndMetadataAreRefusedBeforeAnythingIsCreated() throws {
    let dir = try TemporaryDirectory("gguf")
    let path = dir.url.appendingPathComponent("bad.gguf").path
    func expectInvalid(_ build: (inout GGUFWriter) -> Void, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
      var w = GGUFWriter()
      build(&w)
      XCTAssertThrowsError(try w.write(to: path), what, file: file, line: line) { error in
        guard let e = error as? FileWriteError, e.path == path else { return XCTFail("\(error)", file: file, line: line) }
        switch e.problem {
        case .invalidTensor, .invalidMetadata: break
        default: XCTFail("\(what): \(e)", file: file, line: line)
        }
      }
      XCTAssertFalse(FileManager.default.fileExists(atPath: path), what, file: file, line: line)
    }
    expectInvalid({ $0.addTensor("t", shape: [4, 32], type: .f32, values: [Float](repeating: 0, count: 127)) }, "count mismatch")
    expectInvalid({ $0.addTensor("t", shape: [2, 48], type: .q8_0, values: [Float](repeating: 0, count: 96)) }, "Q8_0 block")
    expectInvalid({ $0.addTensor("t", shape: [1, 1, 1, 1, 32], type: .f32, values: [Float](repeating: 0, count: 32)) }, "5 dims")
    expectInvalid({ $0.addTensor("t", shape: [0, 32], type: .f32, values: []) }, "zero dim")
    expectInvalid({ $0.addTensor("t", shape: [32], type: .q4_0, values: [Float](repeating: 0, count: 32)) }, "unsupported type")
    expectInvalid({ w in
      w.addTensor("t", shape: [2], type: .f32, values: [1, 2])
      w.addTensor("t", shape: [2], type: .f32, values: [1, 2])
    }, "duplicate name")
    expectInvalid({ $0.addTensor(String(repeating: "n", count: 64), shape: [1], type: .f32, values: [1]) }, "long name")
    expectInvalid({ $0.set("bad", .array(.string, [.string("a"), .uint8(1)])) }, "mixed array")
  }
}

enum FixtureBytes {
  static func read(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
}
