import LomoCore
import LomoModel
import LomoOptim

/// Builds the optimizer of a `TrainingOptions` and the clipping `LomoStep` runs it with. The
/// learning rate is not the optimizer's: `Trainer` hands each step its scheduled rate.
enum OptimizerFactory {
  static func make(_ o: TrainingOptions, parameters: LlamaParameters, ledger: MemoryLedger)
    -> any StepOptimizer
  {
    // The rounding generator gets its own stream, apart from the data order's.
    let seed = o.seed ^ 0x5EED_0F_10_40
    switch o.optimizer {
    case .lomo:
      return LOMO(LOMO.Options(weightDecay: o.weightDecay, clipGradValue: o.clipGradValue,
                               seed: seed), communicator: parameters.communicator)
    case .adalomo:
      var a = AdaLomo.Options(weightDecay: o.weightDecay, clipGradValue: o.clipGradValue)
      a.seed = seed
      return AdaLomo(parameters: parameters, options: a, ledger: ledger)
    case .sgd:
      return SGDBaseline(
        parameters: parameters,
        options: LOMO.Options(weightDecay: o.weightDecay, clipGradValue: o.clipGradValue,
                              seed: seed),
        clipGradNorm: o.clipGradNorm > 0 ? o.clipGradNorm : nil, ledger: ledger)
    case .adamw:
      var a = AdamWBaseline.Options(weightDecay: o.weightDecay,
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
}
