import LomoCore
import LomoModel
import LomoOptim

extension LomoStep {
  /// The step that `options` describe over `model`: its optimizer (`OptimizerFactory`), its
  /// gradient clipping, and dynamic loss scaling when the weights are f16. Used by `Trainer`
  /// and by `lomo bench`, so that both time exactly the same step.
  public convenience init(model: LlamaModel, options: TrainingOptions, ledger: MemoryLedger = .shared) {
    let optimizer = OptimizerFactory.make(options, parameters: model.parameters, ledger: ledger)
    let o = options.lossScale
    // The loss scale: dynamic for f16 storage; otherwise the optimizer's `defaultLossScale`.
    let scaler = options.dtype == .f16
      ? DynamicLossScaler(initialScale: o.initialScale, factor: o.factor, window: o.window,
                          minScale: o.minScale)
      : nil
    self.init(model: model, optimizer: optimizer, clipping: OptimizerFactory.clipping(options),
              lossScaler: scaler)
  }
}
