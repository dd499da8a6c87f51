import LomoCore
import LomoDistributed

/// Whole tensors of sharded parameters, assembled one at a time on rank 0 (for exports):
/// no rank ever holds the whole model.
///
/// Rank 0 runs the export in `exportingWhole`, whose writers call `copyWholeAsFloat` for each
/// tensor in whatever order they write; meanwhile every other rank serves: rank 0 broadcasts
/// which tensor comes next and every rank gathers its shard of it to rank 0. After the export
/// (also when it throws) rank 0 broadcasts the end. Unsharded, both are the plain calls.
extension LlamaParameters {
  /// Runs `export` on rank 0 while the other ranks serve their shards; returns its result on
  /// rank 0, nil on the others. Every rank must call it.
  @discardableResult
  public func exportingWhole<T>(_ export: () throws -> T) rethrows -> T? {
    guard isSharded else { return try export() }
    guard communicator.rank == 0 else {
      serveShards()
      return nil
    }
    defer { announce(-1) }
    return try export()
  }

  /// The whole values of `tensor` (one of `all`) as f32 into `out` [tensor.shard.fullCount]:
  /// gathered from every rank when sharded (rank 0, inside `exportingWhole`), read from the
  /// file when its layer is streamed (the next layer read meanwhile, for writers that go in
  /// `all` order).
  public func copyWholeAsFloat(_ tensor: ParameterTensor, into out: UnsafeMutablePointer<Float>) {
    if let streamed, let l = tensor.id.layer {
      streamed.use(l, writing: false)
      streamed.prefetch(l + 1, writing: false)
    }
    guard isSharded else { return tensor.copyAsFloat(into: out) }
    precondition(communicator.rank == 0, "whole tensors are assembled on rank 0")
    guard let index = all.firstIndex(where: { $0 === tensor }) else {
      preconditionFailure("\(tensor.id) is not one of these parameters")
    }
    announce(index)
    let whole = ParameterTensor(id: tensor.id, shape: tensor.shard.fullShape, dtype: dtype, category: .scratch)
    gatherShard(tensor, into: whole.storage)
    whole.copyAsFloat(into: out)
  }

  private func announce(_ index: Int) {
    var next = Int64(index)
    communicator.broadcast(&next, count: 1, root: 0)
  }

  private func serveShards() {
    let tensors = all
    while true {
      var next: Int64 = -1
      communicator.broadcast(&next, count: 1, root: 0)
      guard next >= 0 && Int(next) < tensors.count else { return }
      gatherShard(tensors[Int(next)], into: nil)
    }
  }

  private func gatherShard(_ tensor: ParameterTensor, into whole: ParameterTensor.Storage?) {
    let counts = tensor.shard.counts
    switch (tensor.storage, whole) {
    case (.f32(let b), .f32(let w)?): communicator.gather(b.pointer, into: w.pointer, counts: counts)
    case (.f32(let b), nil): communicator.gather(b.pointer, into: nil, counts: counts)
    case (.bf16(let b), .bf16(let w)?): communicator.gather(b.pointer, into: w.pointer, counts: counts)
    case (.bf16(let b), nil): communicator.gather(b.pointer, into: nil, counts: counts)
    case (.f16(let b), .f16(let w)?): communicator.gather(b.pointer, into: w.pointer, counts: counts)
    case (.f16(let b), nil): communicator.gather(b.pointer, into: nil, counts: counts)
    default: preconditionFailure("a \(tensor.dtype) shard gathered into other storage")
    }
  }
}
