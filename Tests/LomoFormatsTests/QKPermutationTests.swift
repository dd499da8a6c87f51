import LomoCore
import LomoFormats
import XCTest

final class QKPermutationTests: XCTestCase {
  /// llama.cpp's forward permutation written out as numpy does it:
  /// `w.reshape(H, 2, D/2, C).swapaxes(1, 2).reshape(w.shape)`; output element [h, i, s, c]
  /// of the swapped [H, D/2, 2, C] array is input element [h, s, i, c].
  func forward(_ w: [Float], rows: Int, columns c: Int, heads: Int) -> [Float] {
    let half = rows / heads / 2
    var out = [Float](repeating: .nan, count: w.count)
    for h in 0..<heads {
      for i in 0..<half {
        for s in 0..<2 {
          for col in 0..<c {
            out[((h * half + i) * 2 + s) * c + col] = w[((h * 2 + s) * half + i) * c + col]
          }
        }
      }
    }
    return out
  }

  func testHandWorkedExample() throws {
    // One head of dim 4: HF rows [0, 1, 2, 3] are stored as [0, 2, 1, 3].
    XCTAssertEqual(forward([0, 1, 2, 3], rows: 4, columns: 1, heads: 1), [0, 2, 1, 3])
    XCTAssertEqual(
      try QKPermutation.undo([0, 2, 1, 3] as [Float], rows: 4, columns: 1, heads: 1), [0, 1, 2, 3])
  }

  func testUndoInvertsForward() throws {
    for (rows, columns, heads) in [(12, 3, 2), (12, 3, 3), (12, 5, 1), (24, 7, 6), (2, 4, 1)] {
      let hf = (0..<rows * columns).map { Float($0) }
      let gguf = forward(hf, rows: rows, columns: columns, heads: heads)
      if rows / heads > 2 { XCTAssertNotEqual(gguf, hf) }
      XCTAssertEqual(try QKPermutation.undo(gguf, rows: rows, columns: columns, heads: heads), hf)

      var applied = hf
      try applied.withUnsafeMutableBufferPointer { b in
        try QKPermutation.apply(b, rows: rows, columns: columns, heads: heads)
      }
      XCTAssertEqual(applied, gguf, "apply == forward for \(rows)x\(columns), \(heads) heads")

      var bf = gguf.map { BFloat16($0) }
      try bf.withUnsafeMutableBufferPointer { b in
        try QKPermutation.undo(b, rows: rows, columns: columns, heads: heads)
      }
      XCTAssertEqual(bf.map(\.float), hf)
    }
  }

  func testBadShapes() {
    let x = [Float](repeating: 0, count: 12)
    // Odd head dimension, rows not divisible by heads, wrong count, zero heads.
    for (rows, columns, heads) in [(12, 1, 4), (12, 1, 5), (6, 3, 1), (12, 1, 0)] {
      XCTAssertThrowsError(try QKPermutation.undo(x, rows: rows, columns: columns, heads: heads)) {
        XCTAssertTrue("\($0)".contains("heads"), "\($0)")
      }
    }
  }
}
