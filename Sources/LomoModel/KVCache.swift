import LomoCore
import LomoKernels

/// The keys and values of the positions that S sequences have run through, for every layer,
/// so that a continuation runs only its new tokens: generation runs each new token once
/// instead of re-running the whole sequence (one sequence), and the candidates of
/// multiple-choice items continue their items' prompts, which ran once (one sequence per item).
///
/// Layout: per layer and sequence, keys and values [capacity, KVH·D] in f32 with RoPE applied
/// (as attention reads them); sequence s holds positions 0..<counts[s]. Memory:
/// 2 · L · S · capacity · KVH·D floats (SmolLM2-135M: 46 KB per position, 94 MB for one
/// sequence of its 2048 positions).
public final class KVCache {
  public let layers: Int
  public let sequences: Int
  /// Positions each sequence can hold.
  public let capacity: Int
  /// KVH·D floats per position and layer.
  let width: Int
  let ledger: MemoryLedger
  private let keys: AlignedBuffer<Float>
  private let values: AlignedBuffer<Float>
  /// Per layer and sequence, the positions stored: a pass stores layer l's before layer l + 1
  /// runs, so a second pass interleaved with it layer by layer sees them at every layer.
  private var filled: [[Int]]

  /// Positions each sequence holds after a whole pass (its next token runs at position
  /// counts[s]).
  public var counts: [Int] { filled[layers - 1] }

  /// An empty cache of `sequences` sequences of up to `capacity` positions of `config`'s model.
  ///
  /// - Precondition: sequences > 0, 0 < capacity ≤ config.maxContext.
  public convenience init(config: LlamaConfig, sequences: Int = 1, capacity: Int, ledger: MemoryLedger = .shared) {
    precondition(sequences > 0 && capacity > 0 && capacity <= config.maxContext,
                 "a KV cache of \(sequences) x \(capacity) positions for a context of \(config.maxContext)")
    self.init(layers: config.layers, sequences: sequences, capacity: capacity, width: config.kvDim, ledger: ledger)
  }

  private init(layers: Int, sequences: Int, capacity: Int, width: Int, ledger: MemoryLedger) {
    self.layers = layers
    self.sequences = sequences
    self.capacity = capacity
    self.width = width
    self.ledger = ledger
    filled = [[Int]](repeating: [Int](repeating: 0, count: sequences), count: layers)
    keys = AlignedBuffer(count: layers * sequences * capacity * width, category: .activations, ledger: ledger)
    values = AlignedBuffer(count: layers * sequences * capacity * width, category: .activations, ledger: ledger)
  }

  /// Forgets every position from `length` on, in every sequence (the rest of a conversation
  /// kept, a turn that differs from the one cached dropped; 0: an empty cache again).
  public func truncate(to length: Int) {
    precondition(length >= 0, "truncating to \(length) positions")
    filled = filled.map { $0.map { Swift.min($0, length) } }
  }

  /// A cache of `capacity` positions per sequence holding what this one holds (a cache that
  /// has to grow).
  ///
  /// - Precondition: capacity ≥ every sequence's count.
  public func copy(capacity: Int) -> KVCache {
    precondition(filled.allSatisfy { $0.allSatisfy { $0 <= capacity } }, "a copy of \(capacity) positions is too small")
    let copy = KVCache(layers: layers, sequences: sequences, capacity: capacity, width: width, ledger: ledger)
    for l in 0..<layers {
      for s in 0..<sequences {
        let from = offset(layer: l, sequence: s, position: 0), to = copy.offset(layer: l, sequence: s, position: 0)
        (copy.keys.pointer + to).update(from: keys.pointer + from, count: filled[l][s] * width)
        (copy.values.pointer + to).update(from: values.pointer + from, count: filled[l][s] * width)
      }
    }
    copy.filled = filled
    return copy
  }

  /// Positions layer `l` holds of sequence `s`.
  func count(layer l: Int, sequence s: Int) -> Int { filled[l][s] }

  private func offset(layer l: Int, sequence s: Int, position: Int) -> Int {
    ((l * sequences + s) * capacity + position) * width
  }

  /// Layer `l`'s keys and values of the positions sequence `s` holds.
  func prefix(layer l: Int, sequence s: Int) -> AttentionPrefix {
    let at = offset(layer: l, sequence: s, position: 0)
    return AttentionPrefix(keys: keys.pointer + at, values: values.pointer + at, length: filled[l][s])
  }

  /// Appends layer `l`'s keys and values [n, KVH·D] of sequence `s`'s next n positions.
  func store(layer l: Int, sequence s: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>,
             positions n: Int) {
    let count = filled[l][s]
    precondition(count + n <= capacity, "\(count) + \(n) positions exceed the KV cache's \(capacity)")
    let at = offset(layer: l, sequence: s, position: count)
    (keys.pointer + at).update(from: k, count: n * width)
    (values.pointer + at).update(from: v, count: n * width)
    filled[l][s] = count + n
  }
}
