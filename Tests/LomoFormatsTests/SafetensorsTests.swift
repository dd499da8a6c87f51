import Foundation
import LomoCore
import LomoFormats
import LomoTestSupport
import XCTest

/// The safetensors reader on files built here byte by byte: a valid file reads back exactly,
/// and every corruption gives a `SafetensorsError` naming the file, never a crash.
final class SafetensorsTests: XCTestCase {
  var scratch: TemporaryDirectory!
  var directory: URL { scratch.url }

  override func setUpWithError() throws { scratch = try temporaryDirectory("st") }

  override func tearDownWithError() throws { scratch = nil }

  /// A file with `header` (JSON text) and `data`, the length field set to the header size
  /// unless `lengthField` overrides it.
  func file(_ header: String, data: [UInt8], lengthField: UInt64? = nil, name: String = "model.safetensors") throws -> String {
    let headerBytes = Array(header.utf8)
    var bytes = withUnsafeBytes(of: (lengthField ?? UInt64(headerBytes.count)).littleEndian, Array.init)
    bytes += headerBytes + data
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
  }

  static let values: [Float] = [1, -2, 0.5, 3, 4, 5]
  static var f32Data: [UInt8] { values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }
  static let validHeader = #"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"__metadata__":{"format":"pt"}}"#

  func read(_ path: String, _ name: String, shape: [Int]) throws -> [Float] {
    let file = try SafetensorsFile(path: path)
    var out = [Float](repeating: .nan, count: shape.reduce(1, *))
    try out.withUnsafeMutableBufferPointer { try file.readFloats(name, expectedShape: shape, into: $0.baseAddress!) }
    return out
  }

  func testValidFileReadsBackEveryDType() throws {
    let path = try file(Self.validHeader, data: Self.f32Data)
    XCTAssertEqual(try read(path, "w", shape: [2, 3]), Self.values)
    XCTAssertEqual(try SafetensorsFile(path: path).metadata, ["format": "pt"])

    let bf16 = Self.values.flatMap { withUnsafeBytes(of: BFloat16($0).bitPattern.littleEndian, Array.init) }
    let f16 = Self.values.flatMap { withUnsafeBytes(of: Float16($0).bitPattern.littleEndian, Array.init) }
    let both = try file(#"{"a":{"dtype":"BF16","shape":[6],"data_offsets":[0,12]},"b":{"dtype":"F16","shape":[6],"data_offsets":[12,24]}}"#,
                        data: bf16 + f16, name: "both.safetensors")
    XCTAssertEqual(try read(both, "a", shape: [6]), Self.values)
    XCTAssertEqual(try read(both, "b", shape: [6]), Self.values)
  }

  func testEveryTruncationIsATypedError() throws {
    let full = try Data(contentsOf: URL(fileURLWithPath: try file(Self.validHeader, data: Self.f32Data)))
    for cut in 0..<full.count {
      let url = directory.appendingPathComponent("cut.safetensors")
      try full.prefix(cut).write(to: url)
      XCTAssertThrowsError(try SafetensorsFile(path: url.path), "cut at \(cut)") { error in
        XCTAssertTrue(error is SafetensorsError, "cut at \(cut): \(error)")
        XCTAssertTrue("\(error)".hasPrefix(url.path), "error must name the file: \(error)")
      }
    }
  }

  func testCorruptionsAreRejectedWithTheProblemNamed() throws {
    let cases: [(String, String, [UInt8], UInt64?)] = [
      ("absurd header length", Self.validHeader, Self.f32Data, 1 << 62),
      ("header past the end", Self.validHeader, Self.f32Data, 10_000),
      ("not JSON", "{not json", Self.f32Data, nil),
      ("JSON array", "[1,2]", Self.f32Data, nil),
      ("unknown dtype", #"{"w":{"dtype":"I64","shape":[3],"data_offsets":[0,24]}}"#, Self.f32Data, nil),
      ("missing dtype", #"{"w":{"shape":[6],"data_offsets":[0,24]}}"#, Self.f32Data, nil),
      ("negative dim", #"{"w":{"dtype":"F32","shape":[-6],"data_offsets":[0,24]}}"#, Self.f32Data, nil),
      ("huge shape", #"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,24]}}"#, Self.f32Data, nil),
      ("offsets past the data", #"{"w":{"dtype":"F32","shape":[6],"data_offsets":[0,2400]}}"#, Self.f32Data, nil),
      ("reversed offsets", #"{"w":{"dtype":"F32","shape":[6],"data_offsets":[24,0]}}"#, Self.f32Data, nil),
      ("size does not match shape", #"{"w":{"dtype":"F32","shape":[5],"data_offsets":[0,24]}}"#, Self.f32Data, nil),
      ("overlapping tensors", #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#, Self.f32Data, nil),
      ("non-string metadata", #"{"__metadata__":{"x":1}}"#, [], nil),
    ]
    for (label, header, data, length) in cases {
      let path = try file(header, data: data, lengthField: length, name: "bad.safetensors")
      XCTAssertThrowsError(try SafetensorsFile(path: path), label) { error in
        XCTAssertTrue(error is SafetensorsError, "\(label): \(error)")
      }
    }
  }

  func testReadingChecksNameAndShape() throws {
    let path = try file(Self.validHeader, data: Self.f32Data)
    XCTAssertThrowsError(try read(path, "missing", shape: [2, 3])) { error in
      XCTAssertEqual((error as? SafetensorsError)?.problem, .missingTensor("missing"))
    }
    XCTAssertThrowsError(try read(path, "w", shape: [3, 2])) { error in
      XCTAssertTrue("\(error)".contains("expected [3, 2]"), "\(error)")
    }
  }

  func testShardedCheckpointResolvesEveryTensorAndRejectsBadIndexes() throws {
    _ = try file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: Array(Self.f32Data.prefix(8)), name: "part-1.safetensors")
    _ = try file(#"{"b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: Array(Self.f32Data.suffix(16)), name: "part-2.safetensors")
    let index = directory.appendingPathComponent("model.safetensors.index.json")
    try Data(#"{"weight_map":{"a":"part-1.safetensors","b":"part-2.safetensors"}}"#.utf8).write(to: index)
    let checkpoint = try SafetensorsCheckpoint(directory: directory.path)
    XCTAssertEqual(checkpoint.tensorNames, ["a", "b"])
    var b = [Float](repeating: 0, count: 4)
    try b.withUnsafeMutableBufferPointer { try checkpoint.readFloats("b", expectedShape: [4], into: $0.baseAddress!) }
    XCTAssertEqual(b, Array(Self.values.suffix(4)))

    for (label, map) in [("escaping shard name", #"{"weight_map":{"a":"../x.safetensors"}}"#),
                         ("listed tensor absent", #"{"weight_map":{"a":"part-1.safetensors","zzz":"part-1.safetensors"}}"#),
                         ("no weight map", #"{"x":1}"#)] {
      try Data(map.utf8).write(to: index)
      XCTAssertThrowsError(try SafetensorsCheckpoint(directory: directory.path), label) { error in
        XCTAssertTrue(error is SafetensorsError, "\(label): \(error)")
      }
    }
    _ = try file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: Array(Self.f32Data.prefix(8)), name: "part-2.safetensors")
    try Data(#"{"weight_map":{"a":"part-1.safetensors","b":"part-2.safetensors"}}"#.utf8).write(to: index)
    XCTAssertThrowsError(try SafetensorsCheckpoint(directory: directory.path)) { error in
      XCTAssertEqual((error as? SafetensorsError)?.problem, .duplicateTensor("a"))
    }
  }
}
