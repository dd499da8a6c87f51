import LomoCore
import LomoModel

/// Full-size f32 gradient buffers for every parameter, accounted under
/// `MemoryCategory.gradients`: what a conventional optimizer holds between backward and its
/// step, and what LOMO avoids. Records the order gradients arrived in (backward order) and
/// the settings of the step in progress: the part of a step both baselines share.
final class GradientStore {
  let buffers: [ParameterID: AlignedBuffer<Float>]
  let tensors: [ParameterID: ParameterTensor]
  private(set) var arrivals: [ParameterID] = []
  /// The settings of the step in progress; nil outside a step.
  private var settings: StepSettings?

  init(parameters: LlamaParameters, ledger: MemoryLedger) {
    var buffers: [ParameterID: AlignedBuffer<Float>] = [:]
    var tensors: [ParameterID: ParameterTensor] = [:]
    for p in parameters.all {
      buffers[p.id] = AlignedBuffer(count: p.count, category: .gradients, ledger: ledger)
      tensors[p.id] = p
    }
    self.buffers = buffers
    self.tensors = tensors
    arrivals.reserveCapacity(buffers.count)
  }

  /// Starts a step: forgets the previous step's arrivals.
  func begin(_ settings: StepSettings) {
    arrivals.removeAll(keepingCapacity: true)
    self.settings = settings
  }

  /// Ends the step: its settings and its outcome, the stored gradients' norm and the clip
  /// coefficient by that norm when `maxNorm` is given, else the settings' coefficient.
  func finish(maxNorm: Float?) -> (StepSettings, StepOutcome) {
    guard let settings else { preconditionFailure("a baseline's finishStep without beginStep") }
    self.settings = nil
    let n = norm(divisor: settings.lossScale)
    let coefficient = maxNorm.map { n.clipCoefficient(maxNorm: $0) } ?? settings.clipCoefficient
    return (settings, StepOutcome(gradientNorm: n, clipCoefficient: coefficient))
  }

  func store(_ parameter: ParameterTensor, gradient: UnsafePointer<Float>) {
    guard let b = buffers[parameter.id] else {
      preconditionFailure("no gradient buffer for \(parameter.id); build the baseline from these parameters")
    }
    b.pointer.update(from: gradient, count: parameter.count)
    arrivals.append(parameter.id)
  }

  /// The first parameter, in arrival order, whose stored gradient fails `accepts`; a baseline
  /// checks every tensor this way before it changes any, so a refused step changes nothing.
  func firstRefused(_ accepts: (ParameterTensor, UnsafePointer<Float>) -> Bool) -> ParameterID? {
    arrivals.first { !accepts(tensors[$0]!, buffers[$0]!.pointer) }
  }

  /// Global norm of the stored gradients divided by `divisor`, summed in arrival order (the same
  /// order and arithmetic as `NormAccumulator`, so both give bit-identical norms).
  func norm(divisor: Float) -> GradientNorm {
    var n = GradientNorm()
    for id in arrivals {
      n.add(tensorSumOfSquares: UpdateKernel.sumOfSquares(
        buffers[id]!.pointer, count: tensors[id]!.count, divisor: divisor))
    }
    return n
  }
}
