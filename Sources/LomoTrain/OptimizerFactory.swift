import LomoCore
import LomoModel
import LomoOptim

/// Builds the optimizer of a `TrainingOptions` and moves its state in and out of checkpoints.
enum OptimizerFactory {
  static func make(_ o: TrainingOptions, parameters: LlamaParameters, ledger: MemoryLedger)
    -> any StepOptimizer
  {
    // The rounding generator gets its own stream, apart from the data order's.
    let seed = o.seed ^ 0x5EED_0F_10_40
    switch o.optimizer {
    case .lomo:
      return LOMO(LOMO.Options(learningRate: o.learningRate, weightDecay: o.weightDecay,
                               clipGradValue: o.clipGradValue, seed: seed))
    case .adalomo:
      var a = AdaLomo.Options(learningRate: o.learningRate, weightDecay: o.weightDecay,
                              clipGradValue: o.clipGradValue)
      a.seed = seed
      return AdaLomo(parameters: parameters, options: a, ledger: ledger)
    case .sgd:
      return SGDBaseline(
        parameters: parameters,
        options: LOMO.Options(learningRate: o.learningRate, weightDecay: o.weightDecay,
                              clipGradValue: o.clipGradValue, seed: seed),
        clipGradNorm: o.clipGradNorm > 0 ? o.clipGradNorm : nil, ledger: ledger)
    case .adamw:
      var a = AdamWBaseline.Options(learningRate: o.learningRate, weightDecay: o.weightDecay,
                                    clipGradNorm: o.clipGradNorm > 0 ? o.clipGradNorm : nil)
      a.seed = seed
      return AdamWBaseline(parameters: parameters, options: a, ledger: ledger)
    }
  }

  /// Fused optimizers clip by a measured global norm in `LomoStep`; baselines clip themselves.
  static func clipping(_ o: TrainingOptions) -> GradientClipping {
    switch o.optimizer {
    case .lomo, .adalomo: o.clipGradNorm > 0 ? .globalNorm(o.clipGradNorm) : .none
    case .sgd, .adamw: .none
    }
  }

  static func state(of optimizer: any StepOptimizer) -> OptimizerState {
    switch optimizer {
    case let o as LOMO: o.state()
    case let o as AdaLomo: o.state()
    case let o as SGDBaseline: o.state()
    case let o as AdamWBaseline: o.state()
    default: OptimizerState()
    }
  }

  static func restore(_ state: OptimizerState, into optimizer: any StepOptimizer) throws {
    switch optimizer {
    case let o as LOMO: try o.restore(state)
    case let o as AdaLomo: try o.restore(state)
    case let o as SGDBaseline: try o.restore(state)
    case let o as AdamWBaseline: try o.restore(state)
    default: break
    }
  }
}
