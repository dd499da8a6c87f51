import Dispatch
import LomoCore
import LomoDistributed

/// The whole weights a sharded model computes with (ZeRO-3). Every rank holds its `RowShard`
/// of each tensor; before a layer runs (forward, checkpoint recompute, backward) its nine
/// tensors are all-gathered from the shards into one of two reusable layer slots, the [V, C]
/// table (embedding or LM head) into a slot of its own and the final norm into another. While
/// one layer computes, the next one's gather may already be in flight in the other slot
/// (`prefetch`). A slot is gathered again once a shard of its layer changed (`changed`).
///
/// Memory: two layers, one [V, C] table and one norm in the storage dtype, accounted under
/// `MemoryCategory.gatheredWeights`.
final class ShardedWeights {
  let shards: LlamaParameters
  var communicator: Communicator { shards.communicator }

  /// One layer's gathered tensors and which layer they hold.
  final class Slot {
    let storage: [ParameterTensor.Storage]
    var tensors: [ParameterTensor] = []
    /// The layer (or tensor) held, nil when none or stale.
    var holds: ParameterID?
    var pending: [CollectiveRequest] = []
    /// Seconds spent blocked in `wait()` so far.
    var waited = 0.0

    init(shapes: [[Int]], dtype: DType, ledger: MemoryLedger) {
      storage = shapes.map {
        ParameterTensor(id: .finalNorm, shape: $0, dtype: dtype, category: .gatheredWeights, ledger: ledger).storage
      }
    }

    func wait() {
      guard !pending.isEmpty else { return }
      let start = DispatchTime.now().uptimeNanoseconds
      for r in pending { r.wait() }
      pending = []
      waited += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
  }

  private let layerSlots: [Slot]
  private let table: Slot
  private let norm: Slot
  /// The slot of the layer computing now (prefetches go to the other one).
  private var current = 0

  init(shards: LlamaParameters, ledger: MemoryLedger) {
    self.shards = shards
    let c = shards.config
    let layerShapes = ParameterID.LayerParameter.present(in: c).map { ParameterID.layer(0, $0).shape(in: c) }
    layerSlots = (0..<2).map { _ in Slot(shapes: layerShapes, dtype: shards.dtype, ledger: ledger) }
    table = Slot(shapes: [ParameterID.embedding.shape(in: c)], dtype: shards.dtype, ledger: ledger)
    norm = Slot(shapes: [ParameterID.finalNorm.shape(in: c)], dtype: shards.dtype, ledger: ledger)
  }

  /// Layer `l`'s whole tensors (gathered now unless a prefetch did already), valid until
  /// `layer` or `prefetch` is asked for a third layer.
  func layer(_ l: Int) -> LayerParameters {
    let slot = start(layer: l, avoiding: nil)
    slot.wait()
    current = layerSlots.firstIndex { $0 === slot }!
    let present = ParameterID.LayerParameter.present(in: shards.config)
    return LayerParameters(present: present) { slot.tensors[present.firstIndex(of: $0)!] }
  }

  /// Starts gathering layer `l` into the slot not in use, when no slot holds it already.
  func prefetch(_ l: Int) {
    guard l >= 0 && l < shards.config.layers else { return }
    _ = start(layer: l, avoiding: current)
  }

  /// The whole [V, C] `id` (`.embedding` or `.lmHead`: the embedding when tied).
  func vocabulary(_ id: ParameterID) -> ParameterTensor {
    gather([shards[id]], into: table).wait()
    return table.tensors[0]
  }

  /// The whole final norm.
  func finalNorm() -> ParameterTensor {
    gather([shards.finalNorm], into: norm).wait()
    return norm.tensors[0]
  }

  /// Lets MPI advance the gathers in flight: Open MPI moves a nonblocking collective only
  /// inside MPI calls, so the model calls this between kernels to overlap a prefetch with the
  /// current layer's compute.
  func progress() {
    for slot in layerSlots + [table] where !slot.pending.isEmpty {
      if slot.pending.allSatisfy(\.isComplete) { slot.pending = [] }
    }
  }

  /// Seconds the model has waited for gathers to complete (the communication that did not
  /// overlap compute).
  var waitedSeconds: Double { (layerSlots + [table, norm]).reduce(0) { $0 + $1.waited } }

  /// Forgets every gathered copy of `id` after its shard changed.
  func changed(_ id: ParameterID) {
    for slot in layerSlots + [table, norm] where slot.holds.map({ Self.sameGroup($0, id) }) == true {
      slot.wait()
      slot.holds = nil
    }
  }

  /// The shard this rank holds of the whole tensor `id`.
  func shard(_ id: ParameterID) -> ParameterTensor { shards[id] }

  // MARK: Gathering

  private func start(layer l: Int, avoiding busy: Int?) -> Slot {
    let id = ParameterID.layer(l, .attentionNorm)
    if let held = layerSlots.first(where: { $0.holds == id }) { return held }
    let index = busy.map { 1 - $0 } ?? (1 - current)
    let slot = layerSlots[index]
    _ = gather(shards.layers[l].all, into: slot)
    return slot
  }

  /// Starts the gathers of `tensors` into `slot` unless it holds them; the slot's views get
  /// their ids.
  @discardableResult
  private func gather(_ tensors: [ParameterTensor], into slot: Slot) -> Slot {
    let group = tensors[0].id
    if slot.holds == group { return slot }
    slot.wait()
    slot.tensors = zip(tensors, slot.storage).map { shard, storage in
      let view = ParameterTensor(id: shard.id, shape: shard.shard.fullShape, sharing: storage)
      slot.pending.append(Self.startGather(shard, into: storage, communicator: communicator))
      return view
    }
    slot.holds = group
    return slot
  }

  private static func startGather(_ shard: ParameterTensor, into full: ParameterTensor.Storage,
                                  communicator: Communicator) -> CollectiveRequest {
    let counts = shard.shard.counts
    switch (shard.storage, full) {
    case (.f32(let mine), .f32(let all)): return communicator.startAllGather(mine.pointer, into: all.pointer, counts: counts)
    case (.bf16(let mine), .bf16(let all)): return communicator.startAllGather(mine.pointer, into: all.pointer, counts: counts)
    case (.f16(let mine), .f16(let all)): return communicator.startAllGather(mine.pointer, into: all.pointer, counts: counts)
    default: preconditionFailure("a \(shard.dtype) shard gathered into other storage")
    }
  }

  /// Whether `a` and `b` are in the same gathered group: the same layer, or the same tensor.
  static func sameGroup(_ a: ParameterID, _ b: ParameterID) -> Bool {
    if let l = a.layer, let m = b.layer { return l == m }
    return a == b
  }
}

/// The updater a sharded model's backward hands each whole gradient to: it reduce-scatters
/// the gradient in f32 (every rank's sum over its batch slice, this rank keeping its shard's
/// rows) and hands this rank's part to `inner` with the shard, then forgets the gathered
/// copies of a tensor whose shard `inner` may have changed.
final class ShardedHandOff: ParameterUpdater {
  let weights: ShardedWeights
  let inner: ParameterUpdater
  /// This rank's part of the gradient being handed over. [largest shard]
  let part: AlignedBuffer<Float>

  init(weights: ShardedWeights, inner: ParameterUpdater, part: AlignedBuffer<Float>) {
    self.weights = weights
    self.inner = inner
    self.part = part
  }

  var changesParameters: Bool { inner.changesParameters }

  func update(_ parameter: ParameterTensor, gradient: UnsafeMutablePointer<Float>) {
    let shard = weights.shard(parameter.id)
    weights.communicator.reduceScatterSum(gradient, into: part.pointer, counts: shard.shard.counts)
    inner.update(shard, gradient: part.pointer)
    if inner.changesParameters { weights.changed(parameter.id) }
  }
}
