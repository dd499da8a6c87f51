import Foundation
import LomoCore
import LomoFormats
import LomoModel
import LomoTestSupport
import XCTest

/// The reproducers of issue 11: a size field of a GGUF header or config.json overwritten with
/// a value no file holds. Each must end in a `ModelLoadError` naming the file and the field,
/// before any parameter memory is allocated (the ledger's peak stays 0).
final class HostileSizeTests: XCTestCase {
  var scratch: TemporaryDirectory!

  override func setUpWithError() throws { scratch = try temporaryDirectory("hostile") }
  override func tearDownWithError() throws { scratch = nil }

  /// The issue's GGUF overwrites: key (after `llama.`) and the little-endian u32 written.
  static let ggufCases: [(key: String, value: UInt32)] = [
    ("block_count", 1 << 31), ("embedding_length", .max), ("feed_forward_length", 1 << 31),
    ("attention.head_count", .max), ("vocab_size", .max), ("embedding_length", .max), ("feed_forward_length", .max),
  ]

  /// Loads the GGUF at `path` with a fresh ledger and expects an error that contains `text`
  /// and the path, with nothing allocated.
  func assertRefused(_ path: String, containing text: String, _ label: String) {
    let ledger = MemoryLedger()
    XCTAssertThrowsError(try ModelSource.gguf(path).loadParameters(dtype: .f32, ledger: ledger), label) { e in
      XCTAssertTrue(e is ModelLoadError, "\(label): \(e)")
      XCTAssertTrue("\(e)".hasPrefix(path + ": ") && "\(e)".contains(text), "\(label): \(e)")
    }
    XCTAssertEqual(ledger.usage.peakTotal, 0, label)
  }

  /// Copies the GGUF at `source` once, then for each case writes the little-endian u32 into
  /// the copy's `llama.<key>` value, checks the load is refused, and restores the bytes.
  func checkGGUF(_ source: String, layers: UInt32) throws {
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: source)))
    let path = try scratch.write(bytes, "x.gguf")
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    func with(_ key: String, _ value: UInt32, _ check: () -> Void) throws {
      let at = try XCTUnwrap(ggufValueOffset(of: "llama." + key, in: bytes), key)
      try handle.seek(toOffset: UInt64(at))
      try handle.write(contentsOf: withUnsafeBytes(of: value.littleEndian, Array.init))
      check()
      try handle.seek(toOffset: UInt64(at))
      try handle.write(contentsOf: bytes[at..<at + 4])
    }
    for (key, value) in Self.ggufCases {
      try with(key, value) { assertRefused(path, containing: "llama.\(key) is \(value), above lomo's limit", "\(key) := \(value)") }
    }
    try with("block_count", layers - 1) {
      assertRefused(path, containing: "tensors of \(layers) layers (up to layer \(layers - 1)) but llama.block_count is \(layers - 1)", "fewer layers")
    }
    try with("block_count", layers + 1) { assertRefused(path, containing: "no tensor 'blk.\(layers)", "more layers") }
    XCTAssertNoThrow(try ModelSource.gguf(path).loadParameters(dtype: .f32, ledger: MemoryLedger()), "restored copy loads")
  }

  func testTinyGGUFSizeOverwrites() throws {
    try checkGGUF(TinyLlamaParityTests.fixtures.appendingPathComponent("tiny-llama-f32.gguf").path, layers: 2)
  }

  func testDefaultModelSizeOverwrites() throws {
    let path = try TestModels.cachedFile(ModelSource.defaultFile)
    let header = Array(try FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 4096) ?? Data())
    XCTAssertEqual(ggufValueOffset(of: "llama.block_count", in: header), 486, "the issue's offsets")
    try checkGGUF(path, layers: 30)
  }

  /// The issue's config.json values on a copy of the tiny Hugging Face model.
  func testConfigJSONSizeOverwrites() throws {
    let folder = TinyLlamaParityTests.fixtures.appendingPathComponent("tiny-llama")
    try FileManager.default.copyItem(at: folder.appendingPathComponent("model.safetensors"),
                                     to: scratch.url.appendingPathComponent("model.safetensors"))
    let text = try String(contentsOf: folder.appendingPathComponent("config.json"), encoding: .utf8)
    let cases: [(key: String, literal: String, expected: String)] = [
      ("hidden_size", "1000000000", "hidden_size is 1000000000, above lomo's limit"),
      ("hidden_size", "4611686018427387904", "hidden_size is 4611686018427387904, above lomo's limit"),
      ("num_hidden_layers", "1000000", "num_hidden_layers is 1000000, above lomo's limit"),
      ("intermediate_size", "1099511627776", "intermediate_size is 1099511627776, above lomo's limit"),
      ("vocab_size", "1099511627776", "vocab_size is 1099511627776, above lomo's limit"),
      ("vocab_size", "1e400", "vocab_size: 1e400 is outside the range of Int"),
      ("num_hidden_layers", "1", "tensors of 2 layers (up to layer 1) but num_hidden_layers is 1"),
    ]
    // kv heads derived from a head count of Int.max (once a trap converting through Double).
    let noKVHeads = text.replacingOccurrences(of: #""num_key_value_heads": 2,"#, with: "")
    XCTAssertNotEqual(noKVHeads, text)
    for c in cases + [("num_attention_heads", "9223372036854775807", "num_attention_heads is 9223372036854775807, above lomo's limit")] {
      let base = c.key == "num_attention_heads" ? noKVHeads : text
      let line = try XCTUnwrap(base.range(of: "\"\(c.key)\": [0-9]+", options: .regularExpression), c.key)
      try scratch.write(Array(base.replacingCharacters(in: line, with: "\"\(c.key)\": \(c.literal)").utf8), "config.json")
      let ledger = MemoryLedger()
      XCTAssertThrowsError(try ModelSource.huggingFace(scratch.path).loadParameters(dtype: .f32, ledger: ledger), c.key) { e in
        XCTAssertTrue(e is ModelLoadError, "\(c.key): \(e)")
        XCTAssertTrue("\(e)".hasPrefix(self.scratch.path) && "\(e)".contains(c.expected), "\(c.key) := \(c.literal): \(e)")
      }
      XCTAssertEqual(ledger.usage.peakTotal, 0, c.key)
    }
  }

  /// A 110 KB binary tensor name is shown as at most 80 characters, control bytes escaped.
  func testBinaryTensorNameIsBounded() throws {
    let bytes = Array(try Data(contentsOf: TinyLlamaParityTests.fixtures.appendingPathComponent("tiny-llama-f32.gguf")))
    let original = try GGUFFile(contentsOf: bytes, name: "tiny.gguf")
    let first = original.tensors.map(\.infoOffset).min()!
    var rng = Xoshiro256(seed: 7)
    let name = (0..<110_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    let mutated = Array(bytes[..<first]) + withUnsafeBytes(of: UInt64(name.count).littleEndian, Array.init) + name
      + [0xFF, 0xFF, 0xFF, 0x7F]  // n_dims far out of range
    XCTAssertThrowsError(try GGUFFile(contentsOf: mutated, name: "tiny.gguf")) { e in
      let text = "\(e)"
      XCTAssertLessThan(text.count, 400, text)
      XCTAssertFalse(text.unicodeScalars.contains { $0.value < 0x20 }, text)
    }
  }
}
