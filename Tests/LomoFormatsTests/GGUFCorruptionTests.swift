import Foundation
import LomoFormats
import LomoTestSupport
import XCTest

/// Corrupt and hostile files, generated from the valid types.gguf fixture: each must give a
/// `GGUFError` that names the file and the problem, never a crash or a huge allocation.
final class GGUFCorruptionTests: XCTestCase {
  let label = "corrupt.gguf"
  var valid: [UInt8] = []
  var file: GGUFFile!

  override func setUpWithError() throws {
    valid = try FixtureFiles.bytes("types", "gguf")
    file = try GGUFFile(contentsOf: valid, name: "types.gguf")
  }

  // MARK: Helpers

  /// Opens `bytes` and returns the error it must raise.
  func openError(
    _ bytes: [UInt8], _ what: String, file: StaticString = #filePath, line: UInt = #line
  ) -> GGUFError? {
    do throws(GGUFError) {
      _ = try GGUFFile(contentsOf: bytes, name: label)
      XCTFail("\(what): opened without error", file: file, line: line)
      return nil
    } catch {
      XCTAssertTrue(
        error.description.hasPrefix(label + ":"), "\(what): error does not name the file: \(error)",
        file: file, line: line)
      return error
    }
  }

  /// Asserts the error's description contains `text`.
  func expect(
    _ bytes: [UInt8], _ text: String, _ what: String, file: StaticString = #filePath,
    line: UInt = #line
  ) {
    guard let error = openError(bytes, what, file: file, line: line) else { return }
    XCTAssertTrue(
      error.description.contains(text), "\(what): expected '\(text)' in: \(error)",
      file: file, line: line)
  }

  func patch<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, _ value: T) -> [UInt8] {
    var b = bytes
    withUnsafeBytes(of: value.littleEndian) { raw in
      for (i, x) in raw.enumerated() { b[offset + i] = x }
    }
    return b
  }

  /// File offset just past the bytes of metadata key `key` (where its value type starts).
  func afterKey(_ key: String) -> Int {
    let k = Array(key.utf8)
    let prefix = withUnsafeBytes(of: UInt64(k.count).littleEndian) { Array($0) } + k
    var hits: [Int] = []
    for i in 0...(valid.count - prefix.count) where Array(valid[i..<i + prefix.count]) == prefix {
      hits.append(i)
    }
    precondition(hits.count == 1, "key \(key) found \(hits.count) times")
    return hits[0] + prefix.count
  }

  /// Offsets of the fields of a tensor info record.
  func infoFields(_ tensor: String) throws -> (nDims: Int, dims: Int, type: Int, offset: Int) {
    let info = try file.tensor(tensor)
    let nDims = info.infoOffset + 8 + tensor.utf8.count
    let type = nDims + 4 + 8 * info.dims.count
    return (nDims, nDims + 4, type, type + 4)
  }

  // MARK: Truncation

  /// Cutting the file anywhere before the end of the last tensor's data is an error; cutting
  /// inside the trailing padding is not.
  func testTruncationAtEveryOffset() throws {
    let end = file.tensors.map { file.dataOffset + $0.offset + $0.byteCount }.max()!
    var kinds: [String: Int] = [:]
    for cut in 0..<valid.count {
      let bytes = Array(valid[..<cut])
      if cut < end {
        guard let error = openError(bytes, "truncated at \(cut)") else { continue }
        kinds[String("\(error)".split(separator: ":")[1]), default: 0] += 1
      } else {
        XCTAssertNoThrow(try GGUFFile(contentsOf: bytes, name: label), "cut at \(cut) in padding")
      }
    }
    XCTAssertGreaterThan(kinds.count, 1, "\(kinds)")
  }

  /// The same through the file system (mmap path), at a spread of offsets, plus an empty file.
  func testTruncatedFilesOnDisk() throws {
    let dir = try TemporaryDirectory("gguf")
    for cut in stride(from: 0, to: valid.count - 16, by: 97) {
      let path = try dir.write(Array(valid[..<cut]), "cut\(cut).gguf")
      XCTAssertThrowsError(try GGUFFile(path: path), "cut \(cut)") { error in
        XCTAssertTrue("\(error)".hasPrefix(path), "\(error)")
      }
    }
    XCTAssertThrowsError(try GGUFFile(path: dir.url.path + "/absent.gguf")) { error in
      guard case .io? = error as? GGUFError else { return XCTFail("\(error)") }
    }
    XCTAssertThrowsError(try GGUFFile(path: dir.url.path)) { error in
      XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
    }
  }

  // MARK: Header

  func testWrongMagic() {
    var b = valid
    b[0] = UInt8(ascii: "X")
    guard case .badMagic? = openError(b, "magic") else { return XCTFail() }
  }

  func testUnsupportedVersions() {
    for v: UInt32 in [0, 1, 4, 0xFFFF_FFFF] {
      guard case .unsupportedVersion(_, v)? = openError(patch(valid, at: 4, v), "version \(v)")
      else { return XCTFail("version \(v)") }
    }
    expect(patch(valid, at: 4, UInt32(3).byteSwapped), "big-endian", "big-endian")
  }

  func testAbsurdCounts() {
    expect(patch(valid, at: 8, UInt64(1) << 60), "absurd counts", "tensor count 2^60")
    expect(patch(valid, at: 16, UInt64(1) << 60), "absurd counts", "kv count 2^60")
    expect(patch(valid, at: 8, UInt64.max), "absurd counts", "tensor count max")
    expect(patch(valid, at: 16, UInt64.max), "absurd counts", "kv count max")
    // Plausible but too many for what follows: runs out of bytes while reading.
    guard case .some = openError(patch(valid, at: 16, UInt64(200)), "kv count 200") else { return }
  }

  // MARK: Metadata

  func testStringLengthPastEnd() {
    // The first key's length.
    guard case .truncated? = openError(patch(valid, at: 24, UInt64(1) << 40), "key length")
    else { return XCTFail() }
    // A string value's length.
    let len = afterKey("test.string") + 4
    guard case .truncated? = openError(patch(valid, at: len, UInt64(valid.count)), "string value")
    else { return XCTFail() }
    expect(patch(valid, at: len, UInt64.max), "needs", "string length max")
  }

  func testAbsurdArrayLength() {
    let count = afterKey("test.array.string") + 8
    expect(patch(valid, at: count, UInt64(1) << 60), "claims", "array length 2^60")
    expect(patch(valid, at: count, UInt64.max), "claims", "array length max")
    let nested = afterKey("test.array.nested") + 8 + 8 + 4  // the first inner array's length
    expect(patch(valid, at: nested, UInt64(1) << 50), "claims", "nested array length")
  }

  func testUnknownValueTypes() {
    expect(patch(valid, at: afterKey("test.uint8"), UInt32(13)), "unknown value type 13", "type")
    expect(
      patch(valid, at: afterKey("test.array.int32") + 4, UInt32(99)),
      "unknown array element type 99", "element type")
  }

  func testInvalidBool() {
    var b = valid
    b[afterKey("test.bool_true") + 4] = 2
    expect(b, "not 0 or 1", "bool 2")
  }

  func testDuplicateKey() {
    // "test.int16" and "test.uint8" have the same length: rename one to the other.
    var b = valid
    let start = afterKey("test.int16") - 10
    b.replaceSubrange(start..<start + 10, with: Array("test.uint8".utf8))
    expect(b, "duplicate key 'test.uint8'", "duplicate key")
  }

  /// Arrays nested far deeper than the limit are rejected, not recursed into.
  func testDeeplyNestedArrays() {
    var b: [UInt8] = Array("GGUF".utf8)
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
    func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
    u32(3)
    u64(0)
    u64(1)
    u64(1)
    b += Array("k".utf8)
    u32(9)  // key "k", type array
    for _ in 0..<100_000 {
      u32(9)
      u64(1)
    }  // array of array of ...
    u32(0)
    u64(0)
    expect(b, "nest deeper", "nesting")
  }

  func testBadAlignment() throws {
    let v2 = try FixtureFiles.bytes("v2", "gguf")
    let key = Array("general.alignment".utf8)
    let at =
      (0...(v2.count - key.count)).first { Array(v2[$0..<$0 + key.count]) == key }! + key.count
    for bad: UInt32 in [0, 48, 3] {
      do {
        _ = try GGUFFile(contentsOf: patch(v2, at: at + 4, bad), name: label)
        XCTFail("alignment \(bad) accepted")
      } catch {
        XCTAssertTrue("\(error)".contains("general.alignment"), "\(error)")
      }
    }
  }

  // MARK: Tensor infos

  func testTooManyDims() throws {
    expect(patch(valid, at: try infoFields("f32").nDims, UInt32(9)), "n_dims is 9", "n_dims 9")
    expect(patch(valid, at: try infoFields("f32").nDims, UInt32(0)), "n_dims is 0", "n_dims 0")
  }

  func testZeroAndNegativeDims() throws {
    let dims = try infoFields("f32").dims
    expect(patch(valid, at: dims, UInt64(0)), "must be positive", "zero dim")
    expect(patch(valid, at: dims + 8, UInt64.max), "must be positive", "negative dim")
  }

  func testElementCountOverflow() throws {
    let dims = try infoFields("f32_3d").dims
    var b = valid
    for d in 0..<3 { b = patch(b, at: dims + 8 * d, UInt64(1) << 31) }
    expect(b, "overflows", "dims 2^31 cubed")
  }

  func testUnknownTensorTypes() throws {
    let type = try infoFields("q8_0").type
    for id: UInt32 in [4, 5, 31, 1000, .max] {
      expect(patch(valid, at: type, id), "unknown tensor type id \(id)", "type \(id)")
    }
  }

  func testInnermostDimNotWholeBlocks() throws {
    expect(
      patch(valid, at: try infoFields("q8_0").dims, UInt64(48)),
      "not a multiple of the Q8_0 block size",
      "48 of Q8_0")
  }

  func testDuplicateTensorNames() throws {
    var b = valid
    let at = try file.tensor("q4_0").infoOffset + 8
    b.replaceSubrange(at..<at + 4, with: Array("q8_0".utf8))
    expect(b, "duplicate tensor name", "duplicate tensor")
  }

  func testMisalignedOffset() throws {
    let field = try infoFields("q4_1").offset
    let offset = try file.tensor("q4_1").offset
    expect(patch(valid, at: field, UInt64(offset + 1)), "not a multiple of the alignment", "+1")
  }

  func testDataPastEnd() throws {
    let field = try infoFields("q6_k").offset
    expect(patch(valid, at: field, UInt64(1) << 40), "past the end", "offset 2^40")
    expect(patch(valid, at: field, UInt64.max - 31), "absurd", "offset near 2^64")
    let dataSize = valid.count - file.dataOffset
    expect(
      patch(valid, at: field, UInt64((dataSize - 64) / 32 * 32)), "past the end", "just past")
  }

  func testDataSectionPastEnd() {
    expect(Array(valid[..<(file.dataOffset - 1)]), "data section starts", "cut before data")
  }

  func testOverlappingData() throws {
    expect(patch(valid, at: try infoFields("f16").offset, UInt64(0)), "overlaps", "overlap")
  }

  /// A known type without a dequantiser opens, but asking for f32 data names the type.
  func testUndequantisableType() throws {
    // Q4_K [256, 3] is 432 bytes; as Q3_K (110 bytes per 256) it is 330 bytes and fits.
    let b = patch(valid, at: try infoFields("q4_k").type, UInt32(11))
    let f = try GGUFFile(contentsOf: b, name: label)
    XCTAssertThrowsError(try f.tensorData("q4_k")) { error in
      XCTAssertEqual(
        error as? GGUFError, .unsupportedTensorType(path: label, tensor: "q4_k", type: .q3_K))
      XCTAssertTrue("\(error)".contains("Q3_K"), "\(error)")
    }
  }
}
