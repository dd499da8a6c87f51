import Foundation
import LomoCore
import LomoFormats
import LomoModel
import LomoTestSupport
import LomoTokenizer
import XCTest

/// Seeded fuzzing of tokenizer loading, a second or two per target: mutated tokenizer.json
/// files and mutated headers of the default model's GGUF (metadata and vocabulary, no
/// tensors) build a tokenizer that encodes and decodes, or throw a typed error; never a trap,
/// never seconds per input, never a resident-memory jump beyond `residentGrowthLimit`.
final class TokenizerFuzzTests: XCTestCase {
  static func isTyped(_ e: Error) -> Bool {
    e is TokenizerError || e is TokenizerFileError || e is GGUFError || e is JSONError || e is ModelLoadError
  }

  /// Growth of the peak RSS a fuzz target may cause: far below what a size field read as a
  /// count (2^32 elements and up) would allocate.
  static let residentGrowthLimit = 1 << 30

  /// A built tokenizer must work on text and ids.
  static func exercise(_ tokenizer: Tokenizer) {
    let ids = tokenizer.encode("Hello, world! 123 ünïcode <s>")
    _ = tokenizer.decode(ids)
  }

  func fuzzJSON(_ name: String, seed: UInt64) throws {
    let bytes = Array(try Data(contentsOf: fixtureURL(name)))
    let digitStarts = (1..<bytes.count).filter { (0x30...0x39).contains(bytes[$0]) && !(0x30...0x39).contains(bytes[$0 - 1]) }
    let peak = ProcessMemory.peakResidentBytes ?? 0
    let (rounds, _) = fuzz(name, seed: seed, iterations: 2000, seconds: 1.5, accepted: Self.isTyped) { m, _ in
      var mutated = m.mutate(bytes, region: 0..<bytes.count)
      if m.below(2) == 0 {
        let at = digitStarts[m.below(digitStarts.count)]
        let end = (at..<bytes.count).first { !(0x30...0x39).contains(bytes[$0]) } ?? bytes.count
        mutated = Array(bytes[..<at]) + Array(String(m.edgeValue()).utf8) + Array(bytes[end...])
      }
      Self.exercise(try Tokenizer(TokenizerSpec(tokenizerJSON: Data(mutated))))
    }
    XCTAssertGreaterThan(rounds, 20, name)
    XCTAssertLessThan((ProcessMemory.peakResidentBytes ?? 0) - peak, Self.residentGrowthLimit, name)
  }

  func testMutatedTokenizerJSONBuildsOrThrows() throws {
    try fuzzJSON("tiny_bytelevel.json", seed: 41)
    try fuzzJSON("tiny_spm.json", seed: 42)
  }

  /// The default model's GGUF cut after its metadata, with a tensor count of 0.
  func defaultModelHeader() throws -> [UInt8] {
    let path = try TestModels.cachedFile(ModelSource.defaultFile)
    let file = try GGUFFile(path: path)
    let end = file.tensors.map(\.infoOffset).min() ?? file.dataOffset
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    var header = Array(try handle.read(upToCount: end) ?? Data())
    for k in 8..<16 { header[k] = 0 }
    return header
  }

  func testMutatedDefaultModelHeaderLoadsOrThrows() throws {
    let header = try defaultModelHeader()
    let fields = ggufSizeFields(header, try GGUFFile(contentsOf: header, name: "header.gguf"))
    let scalars = fields.filter { $0 < 1100 }.max() ?? 1100
    let peak = ProcessMemory.peakResidentBytes ?? 0
    let (rounds, _) = fuzz("default model header", seed: 51, iterations: 200, seconds: 3, roundLimit: 5, accepted: Self.isTyped) { m, _ in
      let region = m.below(2) == 0 ? 0..<scalars + 8 : 0..<header.count
      let file = try GGUFFile(contentsOf: m.mutate(header, region: region, fields: fields), name: "fuzz.gguf")
      XCTAssertThrowsError(try LlamaConfig(gguf: file), "no tensors") { XCTAssertTrue(Self.isTyped($0), "\($0)") }
      Self.exercise(try Tokenizer(gguf: file))
    }
    XCTAssertGreaterThan(rounds, 2)
    XCTAssertLessThan((ProcessMemory.peakResidentBytes ?? 0) - peak, Self.residentGrowthLimit)
  }
}
