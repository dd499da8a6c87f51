import LomoCore
import LomoModel

extension AdamWBaseline {
  /// Arrays `<HF tensor name>.exp_avg` / `.exp_avg_sq` (PyTorch's names), the step count and
  /// the rounding generator.
  public func state() -> OptimizerState {
    var s = OptimizerState(integers: ["step": UInt64(step)])
    for (id, buffer) in m { s.arrays["\(id).exp_avg"] = buffer.array }
    for (id, buffer) in v { s.arrays["\(id).exp_avg_sq"] = buffer.array }
    OptimizerState.encode(generator, into: &s.integers, prefix: "generator")
    return s
  }

  /// Restores `state()` output; throws naming the first missing or mis-sized array.
  public func restore(_ s: OptimizerState) throws {
    guard let t = s.integers["step"] else { throw OptimizerStateError("missing 'step'") }
    let rng = try s.generator("generator")
    let named = m.map { ("\($0.key).exp_avg", $0.value) } + v.map { ("\($0.key).exp_avg_sq", $0.value) }
    try s.restoreArrays(named)
    step = Int(t)
    generator = rng
  }
}

extension SGDBaseline {
  /// The rounding generator (plain SGD has no other state).
  public func state() -> OptimizerState {
    var s = OptimizerState()
    OptimizerState.encode(generator, into: &s.integers, prefix: "generator")
    return s
  }

  public func restore(_ s: OptimizerState) throws { generator = try s.generator("generator") }
}

extension OptimizerState {
  /// Copies the array of each name into its buffer, after checking that every one is present
  /// with the buffer's size (nothing is written when one is missing or mis-sized).
  func restoreArrays(_ named: [(String, AlignedBuffer<Float>)]) throws {
    for (name, buffer) in named {
      guard let values = arrays[name] else { throw OptimizerStateError("missing '\(name)'") }
      guard values.count == buffer.count else {
        throw OptimizerStateError("'\(name)' has \(values.count) values, expected \(buffer.count)")
      }
    }
    for (name, buffer) in named { _ = buffer.buffer.update(fromContentsOf: arrays[name]!) }
  }
}
