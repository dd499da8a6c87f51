import Foundation
import LomoCore
import LomoFormats
import LomoTestSupport
import XCTest

final class SafetensorsWriterTests: XCTestCase {
  func testLayoutHeaderAndValuesRoundTrip() throws {
    let dir = try TemporaryDirectory("gguf")
    let path = dir.url.appendingPathComponent("model.safetensors").path
    var w = SafetensorsWriter()
    let a: [Float] = (0..<6).map { Float($0) * 0.3 - 1 }
    let b: [Float] = [1e-3, 3.14159, -65504, 7]
    let c: [Float] = [0.1, 0.2, 0.3]
    w.addTensor("z.weight", shape: [2, 3], dtype: .f32, values: a)
    w.addTensor("b.weight", shape: [2, 2], dtype: .bf16, values: b)
    w.addTensor("a.weight", shape: [3], dtype: .f16) { out in _ = out.initialize(from: c) }
    try w.write(to: path)

    let bytes = try FixtureBytes.read(path)
    let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    XCTAssertEqual((8 + headerLength) % 8, 0, "data must start 8-byte aligned")
    let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
    XCTAssertTrue(header.hasPrefix("{\"__metadata__\":{\"format\":\"pt\"},\"a.weight\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},\"b.weight\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[6,14]},\"z.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[14,38]}}"), header)
    XCTAssertEqual(header.trimmingCharacters(in: .whitespaces).count + header.reversed().prefix { $0 == " " }.count, header.count)
    XCTAssertEqual(bytes.count, 8 + headerLength + 38)

    let file = try SafetensorsFile(path: path)
    XCTAssertEqual(file.metadata, ["format": "pt"])
    func read(_ name: String, _ shape: [Int]) throws -> [Float] {
      var out = [Float](repeating: .nan, count: shape.reduce(1, *))
      try file.readFloats(name, expectedShape: shape, into: &out)
      return out
    }
    XCTAssertEqual(try read("z.weight", [2, 3]), a)
    XCTAssertEqual(try read("b.weight", [2, 2]), b.map { BFloat16($0).float })
    XCTAssertEqual(try read("a.weight", [3]), c.map { Float(Float16($0)) })
  }

  func testMismatchesAndExistingFilesAreRefusedAndNothingIsLost() throws {
    let dir = try TemporaryDirectory("gguf")
    let path = try dir.write(Array("old".utf8), "model.safetensors")
    var w = SafetensorsWriter()
    w.addTensor("x", shape: [2, 2], dtype: .f32, values: [1, 2, 3])
    XCTAssertThrowsError(try w.write(to: path, overwrite: true)) { error in
      guard case .invalidTensor("x", _)? = (error as? FileWriteError)?.problem else { return XCTFail("\(error)") }
    }
    var ok = SafetensorsWriter()
    ok.addTensor("x", shape: [2, 2], dtype: .f32, values: [1, 2, 3, 4])
    XCTAssertThrowsError(try ok.write(to: path)) {
      XCTAssertEqual($0 as? FileWriteError, FileWriteError(path: path, problem: .destinationExists))
    }
    struct Boom: Error {}
    var failing = ok
    failing.addTensor("y", shape: [1], dtype: .f16) { _ in throw Boom() }
    XCTAssertThrowsError(try failing.write(to: path, overwrite: true))
    XCTAssertEqual(try FixtureBytes.read(path), Array("old".utf8))
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path), ["model.safetensors"])
    try ok.write(to: path, overwrite: true)
    XCTAssertEqual(try SafetensorsFile(path: path).tensors["x"]?.shape, [2, 2])
  }
}
