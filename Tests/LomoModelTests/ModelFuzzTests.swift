import Foundation
import LomoCore
import LomoFormats
import LomoModel
import LomoTestSupport
import XCTest

/// Seeded fuzzing of model loading (GGUF, safetensors, config.json), a second or two per
/// target: every mutated input loads or throws a typed error naming the file, never traps,
/// never takes seconds, and never makes the ledger hold more than `memoryBound` of the input.
final class ModelFuzzTests: XCTestCase {
  let fixtures = TinyLlamaParityTests.fixtures
  var scratch: TemporaryDirectory!

  override func setUpWithError() throws { scratch = try temporaryDirectory("fuzz") }
  override func tearDownWithError() throws { scratch = nil }

  /// The most a load may hold for a model file of `bytes`: f32 parameters from the smallest
  /// quantisation (2 bits a weight, 16×), the f32 staging of the largest tensor, and slack.
  static func memoryBound(_ bytes: Int) -> Int { 40 * bytes + (1 << 20) }

  static func isTyped(_ e: Error) -> Bool {
    e is ModelLoadError || e is GGUFError || e is SafetensorsError || e is JSONError
  }

  func fuzzGGUF(_ name: String, seed: UInt64) throws {
    let bytes = Array(try Data(contentsOf: fixtures.appendingPathComponent(name)))
    let original = try GGUFFile(contentsOf: bytes, name: name)
    let fields = ggufSizeFields(bytes, original)
    let (rounds, loaded) = fuzz(name, seed: seed, iterations: 3000, seconds: 2, accepted: Self.isTyped) { m, _ in
      let mutated = m.mutate(bytes, region: 0..<original.dataOffset, fields: fields)
      let ledger = MemoryLedger()
      defer { XCTAssertLessThanOrEqual(ledger.usage.peakTotal, Self.memoryBound(mutated.count), name) }
      let file = try GGUFFile(contentsOf: mutated, name: "fuzz.gguf")
      _ = try LlamaParameters.load(config: try LlamaConfig(gguf: file), from: file, dtype: .f32, ledger: ledger)
    }
    XCTAssertGreaterThan(rounds, 50, name)
    XCTAssertLessThan(loaded, rounds, "\(name): some mutations must be refused")
  }

  func testMutatedGGUFLoadsOrThrows() throws {
    try fuzzGGUF("tiny-llama-f32.gguf", seed: 11)
    try fuzzGGUF("tiny-llama-q8_0.gguf", seed: 12)
  }

  /// Writes a Hugging Face folder of `config` and `weights` and loads it.
  func loadFolder(config: [UInt8], weights: [UInt8], ledger: MemoryLedger) throws {
    try scratch.write(config, "config.json")
    try scratch.write(weights, "model.safetensors")
    _ = try ModelSource.resolve(scratch.path).loadParameters(dtype: .f32, ledger: ledger)
  }

  func testMutatedSafetensorsLoadOrThrow() throws {
    let folder = fixtures.appendingPathComponent("tiny-llama")
    let config = Array(try Data(contentsOf: folder.appendingPathComponent("config.json")))
    let weights = Array(try Data(contentsOf: folder.appendingPathComponent("model.safetensors")))
    let headerEnd = 8 + Int(weights[0..<8].reversed().reduce(0) { $0 << 8 | UInt64($1) })
    // Digits in the header: shapes and data offsets, overwritten with edge values as text.
    let digitRuns = (8..<headerEnd).filter { weights[$0] >= 0x30 && weights[$0] <= 0x39 && weights[$0 - 1] < 0x30 }
    let (rounds, _) = fuzz("model.safetensors", seed: 21, iterations: 300, seconds: 2, accepted: Self.isTyped) { m, _ in
      var mutated = m.mutate(weights, region: 0..<headerEnd, fields: [0])
      if m.below(2) == 0, mutated.count == weights.count {
        let at = digitRuns[m.below(digitRuns.count)]
        let end = (at..<headerEnd).first { !(0x30...0x39).contains(weights[$0]) } ?? at
        mutated = Array(weights[..<at]) + Array(String(m.edgeValue()).utf8) + Array(weights[end...])
      }
      let ledger = MemoryLedger()
      defer { XCTAssertLessThanOrEqual(ledger.usage.peakTotal, Self.memoryBound(mutated.count)) }
      try loadFolder(config: config, weights: mutated, ledger: ledger)
    }
    XCTAssertGreaterThan(rounds, 30)
  }

  /// JSON literals that break a size field: negative, zero, past 2^31, 2^32, 2^62, Int, Double.
  static let hostileLiterals = [
    "0", "-1", "1", "3", "2147483648", "4294967295", "1e9", "4611686018427387904", "1099511627776",
    "99999999999999999999999", "1e400", "2.5", "null", "\"x\"", "true", "[]", "{}",
  ]

  func testMutatedConfigJSONLoadsOrThrows() throws {
    let folder = fixtures.appendingPathComponent("tiny-llama")
    let text = try String(contentsOf: folder.appendingPathComponent("config.json"), encoding: .utf8)
    let weights = Array(try Data(contentsOf: folder.appendingPathComponent("model.safetensors")))
    let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    let keys = json.keys.sorted()
    let (rounds, loaded) = fuzz("config.json", seed: 31, iterations: 300, seconds: 2, accepted: Self.isTyped) { m, _ in
      var config: [UInt8]
      if m.below(3) == 0 {
        config = m.mutate(Array(text.utf8), region: 0..<text.utf8.count)
      } else {
        var changed = json
        for _ in 0...m.below(3) { changed[keys[m.below(keys.count)]] = "@@\(m.below(Self.hostileLiterals.count))@@" }
        if m.below(2) == 0 { changed.removeValue(forKey: keys[m.below(keys.count)]) }  // fallbacks derived from hostile values
        var out = String(decoding: try JSONSerialization.data(withJSONObject: changed, options: .sortedKeys), as: UTF8.self)
        for (i, literal) in Self.hostileLiterals.enumerated() { out = out.replacingOccurrences(of: "\"@@\(i)@@\"", with: literal) }
        config = Array(out.utf8)
      }
      let ledger = MemoryLedger()
      defer { XCTAssertLessThanOrEqual(ledger.usage.peakTotal, Self.memoryBound(weights.count)) }
      try loadFolder(config: config, weights: weights, ledger: ledger)
    }
    XCTAssertGreaterThan(rounds, 30)
    XCTAssertLessThan(loaded, rounds)
  }
}
