import Foundation
import LomoFormats
import LomoModel
import LomoTestSupport
import XCTest

/// The real SmolLM2-135M-Instruct Q4_1 GGUF against values gguf-py extracted
/// (Fixtures/smollm2_expected.json). Skipped when the model is not in ~/.cache/lomo.
final class SmolLM2Tests: XCTestCase {
  struct Expected: Decodable {
    struct Sum: Decodable {
      let type: String
      let shape: [Int]
      let sum: Double
      let sumSquares: Double
    }
    struct Pick: Decodable {
      let firstRowHead: [Float]
      let lastRowTail: [Float]
      let indices: [[Int]]
      let values: [Float]
    }
    let tensorCount: Int
    let sums: [String: Sum]
    let picks: [String: Pick]
  }

  func expected() throws -> Expected {
    try JSONDecoder().decode(
      Expected.self, from: Data(contentsOf: FixtureFiles.url("smollm2_expected", "json")))
  }

  func testMetadataAndTensorInfos() throws {
    let file = try GGUFFile(path: try TestModels.cachedFile(ModelSource.defaultFile))
    let m = file.metadata
    XCTAssertEqual(file.version, 3)
    XCTAssertEqual(try m.string("general.architecture"), "llama")
    XCTAssertEqual(try m.int("llama.block_count"), 30)
    XCTAssertEqual(try m.int("llama.embedding_length"), 576)
    XCTAssertEqual(try m.int("llama.feed_forward_length"), 1536)
    XCTAssertEqual(try m.int("llama.attention.head_count"), 9)
    XCTAssertEqual(try m.int("llama.attention.head_count_kv"), 3)
    XCTAssertEqual(try m.float("llama.rope.freq_base"), 100_000)
    XCTAssertEqual(try m.float("llama.attention.layer_norm_rms_epsilon"), 1e-5)
    XCTAssertEqual(try m.string("tokenizer.ggml.model"), "gpt2")
    let tokens = try m.stringArray("tokenizer.ggml.tokens")
    XCTAssertEqual(tokens.count, 49152)
    XCTAssertEqual(try m.intArray("tokenizer.ggml.token_type").count, 49152)
    XCTAssertEqual(try m.stringArray("tokenizer.ggml.merges").count, 48900)
    XCTAssertEqual(try m.int("tokenizer.ggml.eos_token_id"), 2)
    XCTAssertEqual(tokens[2], "<|im_end|>")

    let e = try expected()
    XCTAssertEqual(file.tensors.count, 272)
    XCTAssertEqual(file.tensors.count, e.tensorCount)
    for t in file.tensors {
      guard let s = e.sums[t.name] else {
        XCTFail("unexpected tensor \(t.name)")
        continue
      }
      XCTAssertEqual(t.type.name, s.type, t.name)
      XCTAssertEqual(t.shape, s.shape, t.name)
    }
    let embd = try file.tensor("token_embd.weight")
    XCTAssertEqual(embd.type, .q8_0)
    XCTAssertEqual(embd.dims, [576, 49152])
    XCTAssertEqual(embd.shape, [49152, 576])
  }

  /// token_embd (Q8_0) and two Q4_1 matrices: rows and scattered elements match gguf-py exactly.
  func testPickedValues() throws {
    let file = try GGUFFile(path: try TestModels.cachedFile(ModelSource.defaultFile))
    let e = try expected()
    XCTAssertEqual(
      Set(e.picks.keys), ["token_embd.weight", "blk.0.attn_q.weight", "blk.29.ffn_down.weight"])
    for (name, pick) in e.picks.sorted(by: { $0.key < $1.key }) {
      let info = try file.tensor(name)
      let values = try file.tensorData(name)
      let cols = info.columns
      XCTAssertEqual(Array(values[0..<128]), pick.firstRowHead, name)
      XCTAssertEqual(Array(values[(values.count - 128)...]), pick.lastRowTail, name)
      let got = pick.indices.map { values[$0[0] * cols + $0[1]] }
      XCTAssertNil(allClose(got, pick.values, atol: 0, rtol: 0, name))
    }
  }

  /// Every tensor of the file dequantises to the same sum and sum of squares as gguf-py
  /// (accumulated in Double; the order differs, hence the 1e-9 relative tolerance).
  func testWholeFileChecksums() throws {
    let file = try GGUFFile(path: try TestModels.cachedFile(ModelSource.defaultFile))
    let e = try expected()
    var params = 0
    var seconds = 0.0
    for t in file.tensors {
      let start = DispatchTime.now().uptimeNanoseconds
      let values = try file.tensorData(t.name)
      seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      params += values.count
      var sum = 0.0
      var squares = 0.0
      for v in values {
        let d = Double(v)
        sum += d
        squares += d * d
      }
      let s = e.sums[t.name]!
      // sum of |v| <= sqrt(n * sum v^2) bounds the rounding of a reordered sum.
      let bound = (Double(values.count) * squares).squareRoot()
      XCTAssertEqual(sum, s.sum, accuracy: 1e-9 * max(1, bound), t.name)
      XCTAssertEqual(squares, s.sumSquares, accuracy: 1e-9 * s.sumSquares, t.name)
    }
    XCTAssertEqual(params, 134_515_008)
    // Informational only (benchmarks are not tests).
    print("SmolLM2: dequantised \(params) parameters in \(String(format: "%.3f", seconds)) s")
  }

  /// Undoing the Q/K permutation on real weights is a pure row shuffle: re-applying it
  /// restores the stored order, and each row keeps its values.
  func testQKPermutationOnRealWeights() throws {
    let file = try GGUFFile(path: try TestModels.cachedFile(ModelSource.defaultFile))
    for (name, key) in [
      ("blk.0.attn_q.weight", "llama.attention.head_count"),
      ("blk.0.attn_k.weight", "llama.attention.head_count_kv"),
    ] {
      let info = try file.tensor(name)
      let heads = try file.metadata.int(key)
      let stored = try file.tensorData(name)
      var hf = try QKPermutation.undo(stored, rows: info.rows, columns: info.columns, heads: heads)
      XCTAssertEqual(info.rows, heads * 64, name)
      // HF row h*64 + 32 (start of the second half) is stored at h*64 + 1.
      let c = info.columns
      XCTAssertEqual(Array(hf[(32 * c)..<(33 * c)]), Array(stored[c..<(2 * c)]), name)
      try hf.withUnsafeMutableBufferPointer { b in
        try QKPermutation.apply(b, rows: info.rows, columns: c, heads: heads)
      }
      XCTAssertEqual(hf, stored, name)
    }
  }
}
