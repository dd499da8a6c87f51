import LomoCore
import LomoModel

extension AdamWBaseline {
  /// The moments under their names: `<HF tensor name>.exp_avg` / `.exp_avg_sq` (PyTorch's).
  var namedMoments: [(String, AlignedBuffer<Float>)] {
    m.map { ("\($0.key).exp_avg", $0.value) } + v.map { ("\($0.key).exp_avg_sq", $0.value) }
  }

  /// The moments (`namedMoments`), the step count `step` and the rounding generator.
  public func state() -> OptimizerState {
    OptimizerState(arrays: namedMoments, step: step, generator: generator)
  }

  public func restore(_ s: OptimizerState) throws { (step, generator) = try s.load(arrays: namedMoments) }
}

extension SGDBaseline {
  /// The rounding generator (plain SGD has no other state).
  public func state() -> OptimizerState { OptimizerState(generator: generator) }

  public func restore(_ s: OptimizerState) throws { generator = try s.generatorOnly() }
}
