import Foundation
import LomoCore
import LomoDistributed
import LomoKernels

/// The tensors of one transformer block, shapes as in `ParameterID.shape(in:)`: LLaMA's nine,
/// and the family's extras (`ParameterID.LayerParameter.present(in:)`).
public struct LayerParameters: Sendable {
  /// By `ParameterID.LayerParameter` index; nil where the family has no such tensor.
  private let tensors: [ParameterTensor?]

  /// The block's tensors `present` (in `LayerParameter` order), each made by `make`.
  public init(present: [ParameterID.LayerParameter], _ make: (ParameterID.LayerParameter) throws -> ParameterTensor) rethrows {
    var tensors = [ParameterTensor?](repeating: nil, count: ParameterID.LayerParameter.allCases.count)
    for p in present { tensors[Self.index(p)] = try make(p) }
    self.tensors = tensors
  }

  private static func index(_ p: ParameterID.LayerParameter) -> Int { ParameterID.LayerParameter.allCases.firstIndex(of: p)! }

  /// The tensor `p`, nil when the family has none.
  public func ifPresent(_ p: ParameterID.LayerParameter) -> ParameterTensor? { tensors[Self.index(p)] }

  /// The tensor `p`. - Precondition: the family has it.
  public subscript(_ p: ParameterID.LayerParameter) -> ParameterTensor {
    guard let t = ifPresent(p) else { preconditionFailure("this model's blocks have no \(p) tensor") }
    return t
  }

  public var attentionNorm: ParameterTensor { self[.attentionNorm] }
  public var query: ParameterTensor { self[.query] }
  public var key: ParameterTensor { self[.key] }
  public var value: ParameterTensor { self[.value] }
  public var output: ParameterTensor { self[.output] }
  public var mlpNorm: ParameterTensor { self[.mlpNorm] }
  public var gate: ParameterTensor { self[.gate] }
  public var up: ParameterTensor { self[.up] }
  public var down: ParameterTensor { self[.down] }

  /// Every tensor the block has, in `ParameterID.LayerParameter` order.
  public var all: [ParameterTensor] { tensors.compactMap { $0 } }
}

/// Every parameter of a LLaMA model in one storage dtype (norm scales included): whole, or
/// this rank's `RowShard` of every tensor when sharded over a communicator of several ranks
/// (ZeRO-3: `LlamaModel` gathers each layer before it runs), or with the transformer blocks
/// in a file on disk (`streamed`: only the layers in use are in memory).
///
/// Code that reads or writes the values of every tensor goes through `forEachTensor`, which
/// brings each streamed layer into memory before its tensors are seen.
public final class LlamaParameters: @unchecked Sendable {
  public let config: LlamaConfig
  public let dtype: DType
  /// The ranks the tensors are sharded over (a world of one: whole tensors).
  public let communicator: Communicator
  public let embedding: ParameterTensor
  public let layers: [LayerParameters]
  public let finalNorm: ParameterTensor
  /// nil when the LM head is tied to `embedding`.
  public let untiedLMHead: ParameterTensor?
  /// The file the layers' weights live in, nil when they are in memory.
  public let streamed: StreamedLayers?

  /// Zero-filled parameters with the layers' weights in a new file in `folder` (the
  /// embedding, LM head and final norm stay in memory), or in memory when `folder` is nil,
  /// each rank of `communicator` then holding its `RowShard` of every tensor.
  /// - Precondition: `config.problems` is empty; not both sharded and streamed.
  public static func zeros(config: LlamaConfig, dtype: DType, shardedOver communicator: Communicator = Communicator(),
                           streamingLayersIn folder: String?, ledger: MemoryLedger = .shared) throws(LayerFileError) -> LlamaParameters {
    var streamed: StreamedLayers?
    if let folder { streamed = try StreamedLayers(config: config, dtype: dtype, folder: folder, ledger: ledger) }
    return LlamaParameters(config: config, dtype: dtype, shardedOver: communicator, streamed: streamed, ledger: ledger)
  }

  /// Zero-filled parameters, sharded over `communicator` or with the layers in `streamed`.
  /// - Precondition: `config.problems` is empty; not both sharded and streamed.
  public init(config: LlamaConfig, dtype: DType, shardedOver communicator: Communicator = Communicator(),
              streamed: StreamedLayers? = nil, ledger: MemoryLedger = .shared) {
    precondition(config.problems.isEmpty, "invalid config: \(config.problems.joined(separator: "; "))")
    precondition(streamed == nil || !communicator.isDistributed, "streamed layers are not sharded")
    self.config = config
    self.dtype = dtype
    self.communicator = communicator
    self.streamed = streamed
    func make(_ id: ParameterID) -> ParameterTensor {
      let shape = id.shape(in: config)
      if let streamed, case .layer(let l, let p) = id {
        return ParameterTensor(id: id, shape: shape,
                               sharing: streamed.storage(layer: l, p, count: shape.reduce(1, *), dtype: dtype))
      }
      return ParameterTensor(id: id, shape: shape, dtype: dtype,
                             shard: RowShard(fullShape: shape, rank: communicator.rank, ranks: communicator.size),
                             ledger: ledger)
    }
    embedding = make(.embedding)
    let present = ParameterID.LayerParameter.present(in: config)
    layers = (0..<config.layers).map { l in LayerParameters(present: present) { make(.layer(l, $0)) } }
    finalNorm = make(.finalNorm)
    untiedLMHead = config.tiedEmbeddings ? nil : make(.lmHead)
  }

  /// The LM head weight [V, C]: the embedding when tied.
  public var lmHead: ParameterTensor { untiedLMHead ?? embedding }

  public subscript(_ id: ParameterID) -> ParameterTensor {
    switch id {
    case .embedding: embedding
    case .finalNorm: finalNorm
    case .lmHead: lmHead
    case .layer(let l, let p): layers[l][p]
    }
  }

  /// Every tensor in forward order (the tied LM head not repeated).
  public var all: [ParameterTensor] { ParameterID.all(for: config).map { self[$0] } }

  /// Size in elements of the largest tensor held here: the bound of LOMO's gradient memory.
  public var largestCount: Int { all.map(\.count).max() ?? 0 }

  /// Whether the tensors are shards over several ranks.
  public var isSharded: Bool { communicator.isDistributed }

  /// Calls `body` with every tensor in `all` order, each streamed layer brought into memory
  /// first (the next one read meanwhile); `writing` when `body` changes the values.
  public func forEachTensor(writing: Bool, _ body: (ParameterTensor) throws -> Void) rethrows {
    for tensor in all {
      if let streamed, let l = tensor.id.layer {
        streamed.use(l, writing: writing)
        streamed.prefetch(l + 1, writing: writing)
      }
      try body(tensor)
    }
  }

  /// Hugging Face's LLaMA initialisation: linear and embedding weights from N(0, std²),
  /// norm scales 1, biases 0. Deterministic for a seed whatever the thread count: each block of
  /// `randomBlock` elements has its own generator, seeded from (seed, tensor, block), and the
  /// blocks are filled in parallel (a 7B model initialises in seconds, without an f32 copy).
  /// Sharded, each rank fills the blocks its shards overlap: the values are those of the
  /// whole model.
  public static func random(
    config: LlamaConfig, dtype: DType, seed: UInt64, std: Float = 0.02,
    shardedOver communicator: Communicator = Communicator(), streamed: StreamedLayers? = nil,
    ledger: MemoryLedger = .shared
  ) -> LlamaParameters {
    let params = LlamaParameters(config: config, dtype: dtype, shardedOver: communicator, streamed: streamed,
                                 ledger: ledger)
    var next = 0
    params.forEachTensor(writing: true) { tensor in
      let index = next
      next += 1
      let held = tensor.shard.elements, total = tensor.shard.fullCount
      let first = held.lowerBound / randomBlock
      let blocks = held.isEmpty ? 0 : (held.upperBound + randomBlock - 1) / randomBlock - first
      Threads.parallelFor(blocks) { range in
        let values = UnsafeMutablePointer<Float>.allocate(capacity: randomBlock)
        defer { values.deallocate() }
        for block in range.lowerBound + first..<range.upperBound + first {
          let elements = block * randomBlock..<min(total, (block + 1) * randomBlock)
          if tensor.id.isNorm || tensor.id.isBias {
            values.update(repeating: tensor.id.isNorm ? 1 : 0, count: elements.count)
          } else {
            var rng = Xoshiro256(seed: seed ^ (UInt64(index) << 40) ^ UInt64(block) &* 0x9E37_79B9_7F4A_7C15)
            fillNormal(values, count: elements.count, std: std, rng: &rng)
          }
          tensor.assign(values, elements: elements)
        }
      }
    }
    return params
  }

  /// Elements per independently seeded block of `random`.
  static let randomBlock = 1 << 16
}

/// Approximately normal samples with mean 0 and standard deviation `std`: each value is the
/// sum of four uniform 16-bit integers from one 64-bit draw (Irwin–Hall, n = 4), centred and
/// scaled. Bounded at ±2√3·std; about 20x faster than Box–Muller, which took minutes for the
/// 6.7B weights of a benchmark model.
func fillNormal(_ out: UnsafeMutablePointer<Float>, count: Int, std: Float, rng: inout Xoshiro256) {
  // Sum of four U{0..65535}: mean 2·65535, variance 4·(65536² − 1)/12.
  let mean: Float = 2 * 65535
  let scale = std / (Float(4 * (65536.0 * 65536.0 - 1) / 12)).squareRoot()
  for i in 0..<count {
    let r = rng.next()
    let sum = (r & 0xFFFF) + (r >> 16 & 0xFFFF) + (r >> 32 & 0xFFFF) + (r >> 48)
    out[i] = (Float(sum) - mean) * scale
  }
}
