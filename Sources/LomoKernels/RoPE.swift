/// Precomputed rotary angles: cos and sin of `position · invFreq[i]`, each [maxPositions, D/2].
///
/// The inverse frequencies follow transformers' LlamaRotaryEmbedding in f32:
/// `invFreq[i] = 1 / theta^(2i/D)`, and the angle is the f32 product `position · invFreq[i]`,
/// so tables match the reference to float rounding. Models with scaled RoPE (LLaMA 3) pass
/// their own inverse frequencies.
public struct RoPETable: Sendable {
  public let headDim: Int
  public let maxPositions: Int
  /// [maxPositions, D/2]
  public let cos: [Float]
  /// [maxPositions, D/2]
  public let sin: [Float]

  /// - Precondition: `headDim` is even and positive, `theta > 0`.
  public init(headDim: Int, maxPositions: Int, theta: Float) {
    precondition(headDim > 0 && headDim % 2 == 0, "RoPE head dimension \(headDim) must be even")
    precondition(theta > 0, "RoPE theta must be positive")
    let inverse = (0..<headDim / 2).map { i in
      1 / Float(Foundation.pow(Double(theta), Double(Float(2 * i) / Float(headDim))))
    }
    self.init(inverseFrequencies: inverse, maxPositions: maxPositions)
  }

  /// - Precondition: `inverseFrequencies` is non-empty.
  public init(inverseFrequencies: [Float], maxPositions: Int) {
    precondition(!inverseFrequencies.isEmpty && maxPositions >= 0)
    let half = inverseFrequencies.count
    headDim = 2 * half
    self.maxPositions = maxPositions
    var c = [Float](repeating: 0, count: maxPositions * half)
    var s = c
    for p in 0..<maxPositions {
      for i in 0..<half {
        let angle = Double(Float(p) * inverseFrequencies[i])
        c[p * half + i] = Float(Foundation.cos(angle))
        s[p * half + i] = Float(Foundation.sin(angle))
      }
    }
    cos = c
    sin = s
  }
}

/// Rotary position embedding in the Hugging Face rotate-half convention: within each head
/// vector of D values, element i pairs with element i + D/2 (i < D/2) and the pair is rotated
/// by the angle of (position, i). Position of time step t is `positionOffset + t`, or, with
/// `sequenceOffsets` (one per sequence of the batch), `sequenceOffsets[b] + t`.
///
/// Both functions work in place on [B, T, heads, D]:
/// - `forward`:  x ← rotate(x, +angle)
/// - `backward`: dx ← rotate(dx, −angle), turning ∂L/∂out into ∂L/∂inp (the rotation is
///   orthogonal, so its transpose is its inverse).
public enum RoPE {
  public static func forward(
    _ x: UnsafeMutablePointer<Float>, table: RoPETable, batch: Int, time: Int, heads: Int,
    headDim: Int, positionOffset: Int = 0
  ) {
    rotate(x, table: table, sign: 1, batch: batch, time: time, heads: heads, headDim: headDim,
           offsets: [positionOffset])
  }

  /// `forward` with sequence b of the batch starting at position `sequenceOffsets[b]`.
  public static func forward(
    _ x: UnsafeMutablePointer<Float>, table: RoPETable, batch: Int, time: Int, heads: Int,
    headDim: Int, sequenceOffsets: [Int]
  ) {
    precondition(sequenceOffsets.count == batch, "\(sequenceOffsets.count) offsets for \(batch) sequences")
    rotate(x, table: table, sign: 1, batch: batch, time: time, heads: heads, headDim: headDim,
           offsets: sequenceOffsets)
  }

  public static func backward(
    _ dx: UnsafeMutablePointer<Float>, table: RoPETable, batch: Int, time: Int, heads: Int,
    headDim: Int, positionOffset: Int = 0
  ) {
    rotate(dx, table: table, sign: -1, batch: batch, time: time, heads: heads, headDim: headDim,
           offsets: [positionOffset])
  }

  /// `offsets`: one for every sequence, or one per sequence.
  private static func rotate(
    _ x: UnsafeMutablePointer<Float>, table: RoPETable, sign: Float, batch: Int, time: Int,
    heads: Int, headDim: Int, offsets: [Int]
  ) {
    precondition(headDim == table.headDim, "RoPE table is for D=\(table.headDim), got \(headDim)")
    for offset in offsets {
      precondition(offset >= 0 && offset + time <= table.maxPositions,
                   "positions up to \(offset + time) exceed the RoPE table (\(table.maxPositions))")
    }
    let perSequence = offsets.count > 1
    let half = headDim / 2
    table.cos.withUnsafeBufferPointer { cosTable in
      table.sin.withUnsafeBufferPointer { sinTable in
        Threads.parallelFor(batch * time, minChunk: 4) { range in
          for bt in range {
            let position = offsets[perSequence ? bt / time : 0] + bt % time
            let c = cosTable.baseAddress! + position * half
            let s = sinTable.baseAddress! + position * half
            for h in 0..<heads {
              let v = x + (bt * heads + h) * headDim
              for i in 0..<half {
                let a = v[i], b = v[i + half]
                let sn = sign * s[i]
                v[i] = a * c[i] - b * sn
                v[i + half] = b * c[i] + a * sn
              }
            }
          }
        }
      }
    }
  }
}

import Foundation
import LomoCore
