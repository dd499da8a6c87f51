import LomoCore
import LomoModel

extension AdamWBaseline {
  /// The moments under their names: `<HF tensor name>.exp_avg` / `.exp_avg_sq` (PyTorch's), in
  /// model order, so a state that lacks several names the same one first in every run.
  var namedMoments: [(String, AlignedBuffer<Float>)] {
    func named(_ moments: [ParameterID: AlignedBuffer<Float>], _ suffix: String) -> [(String, AlignedBuffer<Float>)] {
      order.compactMap { id in moments[id].map { ("\(id).\(suffix)", $0) } }
    }
    return named(m, "exp_avg") + named(v, "exp_avg_sq")
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
