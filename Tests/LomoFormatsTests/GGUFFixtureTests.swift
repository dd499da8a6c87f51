import LomoCore
import LomoFormats
import LomoTestSupport
import XCTest

/// The reader against files written by gguf-py 0.19.0 (scripts/make_gguf_fixtures.py).
final class GGUFFixtureTests: XCTestCase {
  func testMetadataOfEveryType() throws {
    let file = try GGUFFile(path: FixtureFiles.path("types", "gguf"))
    let m = file.metadata
    XCTAssertEqual(file.version, 3)
    XCTAssertEqual(m.count, 26)
    XCTAssertEqual(m.keys.first, "general.architecture")
    XCTAssertEqual(try m.string("general.architecture"), "test")
    XCTAssertEqual(m["test.uint8"], .uint8(200))
    XCTAssertEqual(m["test.int8"], .int8(-100))
    XCTAssertEqual(m["test.uint16"], .uint16(60000))
    XCTAssertEqual(m["test.int16"], .int16(-30000))
    XCTAssertEqual(m["test.uint32"], .uint32(4_000_000_000))
    XCTAssertEqual(m["test.int32"], .int32(-2_000_000_000))
    XCTAssertEqual(m["test.uint64"], .uint64(1 << 63 + 5))
    XCTAssertEqual(m["test.int64"], .int64(-(1 << 62) - 3))
    XCTAssertEqual(m["test.float32"], .float32(3.25))
    XCTAssertEqual(m["test.float64"], .float64(1.0 / 3.0))
    XCTAssertEqual(m["test.bool_true"], .bool(true))
    XCTAssertEqual(m["test.bool_false"], .bool(false))
    XCTAssertEqual(m["test.string"], .string("héllo wörld ✓"))
    XCTAssertEqual(m["test.empty_string"], .string(""))
    XCTAssertEqual(m["test.array.uint8"], .array(.uint8, [.uint8(1), .uint8(2), .uint8(255)]))
    XCTAssertEqual(m["test.array.uint64"], .array(.uint64, [.uint64(0), .uint64(.max)]))
    XCTAssertEqual(m["test.array.float64"], .array(.float64, [.float64(0.1), .float64(-2.5)]))
    XCTAssertEqual(m["test.array.bool"], .array(.bool, [.bool(true), .bool(false), .bool(true)]))
    XCTAssertEqual(
      m["test.array.nested"],
      .array(.array, [.array(.int32, [.int32(1), .int32(2)]), .array(.int32, [.int32(3)])]))
    XCTAssertEqual(
      m["test.array.nested_strings"],
      .array(
        .array, [.array(.string, [.string("x")]), .array(.string, [.string("y"), .string("z")])]))

    // Typed accessors.
    XCTAssertEqual(try m.int("test.uint8"), 200)
    XCTAssertEqual(try m.int("test.int64"), -(1 << 62) - 3)
    XCTAssertEqual(try m.int("test.uint32"), 4_000_000_000)
    XCTAssertEqual(try m.float("test.float32"), 3.25)
    XCTAssertEqual(try m.double("test.float64"), 1.0 / 3.0)
    XCTAssertEqual(try m.bool("test.bool_true"), true)
    XCTAssertEqual(try m.stringArray("test.array.string"), ["a", "bc", "", "ünï"])
    XCTAssertEqual(try m.intArray("test.array.int32"), [-1, 0, 7])
    XCTAssertEqual(try m.floatArray("test.array.float32"), [0.5, -1.25])
    XCTAssertEqual(try m.array("test.array.nested").count, 2)
  }

  func testAccessorErrorsNameFileKeyAndTypes() throws {
    let path = FixtureFiles.path("types", "gguf")
    let m = try GGUFFile(path: path).metadata
    XCTAssertThrowsError(try m.int("llama.block_count")) { error in
      XCTAssertEqual(error as? GGUFError, .missingKey(path: path, key: "llama.block_count"))
      XCTAssertTrue("\(error)".contains(path) && "\(error)".contains("llama.block_count"))
    }
    XCTAssertThrowsError(try m.int("test.string")) { error in
      XCTAssertEqual(
        error as? GGUFError,
        .typeMismatch(path: path, key: "test.string", expected: "integer", found: "string"))
    }
    // uint64 above Int.max does not fit Int.
    XCTAssertThrowsError(try m.int("test.uint64"))
    XCTAssertThrowsError(try m.intArray("test.array.uint64"))
    XCTAssertThrowsError(try m.stringArray("test.array.int32")) { error in
      XCTAssertTrue("\(error)".contains("array of int32"), "\(error)")
    }
    XCTAssertThrowsError(try m.float("test.int32"))
    XCTAssertThrowsError(try m.bool("test.uint8"))
    XCTAssertThrowsError(try m.string("test.array.string"))
  }

  func testTensorInfos() throws {
    let file = try GGUFFile(path: FixtureFiles.path("types", "gguf"))
    XCTAssertEqual(file.alignment, 32)
    XCTAssertEqual(file.dataOffset % 32, 0)
    XCTAssertEqual(
      file.tensors.map(\.name),
      [
        "f32", "f16", "bf16", "f32_1d", "f32_3d", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1",
        "q4_k", "q5_k", "q6_k", "attn_q.weight", "attn_k.weight",
      ])
    let types: [GGMLType] = [
      .f32, .f16, .bf16, .f32, .f32, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K, .f32,
      .f32,
    ]
    XCTAssertEqual(file.tensors.map(\.type), types)
    let f32 = try file.tensor("f32")
    XCTAssertEqual(f32.dims, [7, 3])
    XCTAssertEqual(f32.shape, [3, 7])
    XCTAssertEqual(f32.rows, 3)
    XCTAssertEqual(f32.columns, 7)
    XCTAssertEqual(try file.tensor("f32_3d").shape, [2, 3, 4])
    XCTAssertEqual(try file.tensor("f32_1d").shape, [5])
    let q4k = try file.tensor("q4_k")
    XCTAssertEqual(q4k.shape, [3, 256])
    XCTAssertEqual(q4k.byteCount, 3 * 144)
    for t in file.tensors { XCTAssertEqual(t.offset % file.alignment, 0, t.name) }
    XCTAssertThrowsError(try file.tensor("nope")) { error in
      XCTAssertEqual(error as? GGUFError, .missingTensor(path: file.path, tensor: "nope"))
    }
  }

  /// Every storage type dequantises to exactly the values gguf-py computes.
  func testDequantisationMatchesGGUFPy() throws {
    let file = try GGUFFile(path: FixtureFiles.path("types", "gguf"))
    let expected = try Fixture(contentsOf: FixtureFiles.url("types", "json"))
    let names = [
      "f32", "f16", "bf16", "f32_1d", "f32_3d", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1",
      "q4_k", "q5_k", "q6_k",
    ]
    for name in names {
      let info = try file.tensor(name)
      XCTAssertEqual(info.shape, expected.shape(name), name)
      let values = try file.tensorData(name)
      XCTAssertNil(allClose(values, expected.data(name), atol: 0, rtol: 0, name))
      // Not trivially zero: the fixture holds real values.
      XCTAssertGreaterThan(values.map { abs($0) }.max() ?? 0, 0.01, name)

      var viaPointer = [Float](repeating: .nan, count: info.elementCount)
      try viaPointer.withUnsafeMutableBufferPointer { b in _ = try file.dequantize(name, into: b) }
      XCTAssertEqual(viaPointer, values, name)

      var bf16 = [BFloat16](repeating: BFloat16(bitPattern: 0), count: info.elementCount)
      try bf16.withUnsafeMutableBufferPointer { b in _ = try file.dequantize(name, into: b) }
      XCTAssertEqual(bf16, values.map { BFloat16($0) }, name)
    }
  }

  func testDestinationSizeIsChecked() throws {
    let file = try GGUFFile(path: FixtureFiles.path("types", "gguf"))
    var small = [Float](repeating: 0, count: 10)
    XCTAssertThrowsError(
      try small.withUnsafeMutableBufferPointer { b in _ = try file.dequantize("q8_0", into: b) }
    ) { error in
      guard case .shapeMismatch(_, "q8_0", _)? = error as? GGUFError else {
        return XCTFail("\(error)")
      }
    }
  }

  /// attn_q / attn_k were stored with llama.cpp's permutation; undoing it gives HF's rows.
  func testQKPermutationUndoneOnFixture() throws {
    let file = try GGUFFile(path: FixtureFiles.path("types", "gguf"))
    let expected = try Fixture(contentsOf: FixtureFiles.url("types", "json"))
    for (name, headKey) in [
      ("attn_q.weight", "test.head_count"), ("attn_k.weight", "test.head_count_kv"),
    ] {
      let info = try file.tensor(name)
      let stored = try file.tensorData(name)
      let hf = try QKPermutation.undo(
        stored, rows: info.rows, columns: info.columns, heads: try file.metadata.int(headKey))
      XCTAssertEqual(info.shape, expected.shape(name + ".hf"))
      XCTAssertEqual(hf, expected.data(name + ".hf"), name)
      if info.rows / (try file.metadata.int(headKey)) > 2 {
        XCTAssertNotEqual(stored, hf, "\(name): the fixture must actually be permuted")
      }
    }
  }

  func testTypeTable() {
    let sizes: [(GGMLType, Int, Int)] = [
      (.f32, 1, 4), (.f16, 1, 2), (.bf16, 1, 2), (.q8_0, 32, 34), (.q4_0, 32, 18), (.q4_1, 32, 20),
      (.q5_0, 32, 22), (.q5_1, 32, 24), (.q4_K, 256, 144), (.q5_K, 256, 176), (.q6_K, 256, 210),
    ]
    for (type, block, bytes) in sizes {
      XCTAssertEqual(type.blockSize, block, type.name)
      XCTAssertEqual(type.bytesPerBlock, bytes, type.name)
      XCTAssertTrue(type.isDequantisable, type.name)
      XCTAssertEqual(GGMLType(id: type.id), type)
    }
    for id: UInt32 in 0..<64 { XCTAssertEqual(GGMLType(id: id).id, id) }
    XCTAssertEqual(GGMLType(id: 5), .unknown(5))
    XCTAssertEqual(GGMLType(id: 5).name, "unknown type 5")
    XCTAssertNil(GGMLType(id: 5).blockSize)
    XCTAssertFalse(GGMLType.q2_K.isDequantisable)
  }

  /// Version 2 (patched by the fixture script), custom alignment 64.
  func testVersion2WithCustomAlignment() throws {
    let file = try GGUFFile(path: FixtureFiles.path("v2", "gguf"))
    let expected = try Fixture(contentsOf: FixtureFiles.url("v2", "json"))
    XCTAssertEqual(file.version, 2)
    XCTAssertEqual(file.alignment, 64)
    XCTAssertEqual(try file.metadata.int("general.alignment"), 64)
    XCTAssertEqual(try file.metadata.string("test.name"), "version two")
    XCTAssertEqual(file.dataOffset % 64, 0)
    for name in ["q8_0", "bias"] {
      XCTAssertEqual(try file.tensor(name).offset % 64, 0)
      XCTAssertEqual(try file.tensor(name).shape, expected.shape(name))
      XCTAssertEqual(try file.tensorData(name), expected.data(name), name)
    }
  }

  /// Opening from memory and from disk give the same result.
  func testInMemoryMatchesMapped() throws {
    let path = FixtureFiles.path("types", "gguf")
    let mapped = try GGUFFile(path: path)
    let memory = try GGUFFile(contentsOf: try FixtureFiles.bytes("types", "gguf"), name: "types")
    XCTAssertEqual(mapped.tensors, memory.tensors)
    XCTAssertEqual(mapped.metadata.keys, memory.metadata.keys)
    XCTAssertEqual(try mapped.tensorData("q6_k"), try memory.tensorData("q6_k"))
    let raw = try mapped.withRawBytes(of: "q8_0") { Array($0) }
    XCTAssertEqual(raw.count, 340)
  }
}
