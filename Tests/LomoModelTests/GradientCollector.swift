import LomoModel

/// An updater that only records each gradient it is handed (and how often), for tests.
final class GradientCollector: ParameterUpdater {
  var gradients: [ParameterID: [Float]] = [:]
  var calls: [ParameterID: Int] = [:]
  /// Every hand-off in order.
  var order: [ParameterID] = []

  func update(_ parameter: ParameterTensor, gradient: UnsafeMutablePointer<Float>) {
    gradients[parameter.id] = Array(UnsafeBufferPointer(start: gradient, count: parameter.count))
    calls[parameter.id, default: 0] += 1
    order.append(parameter.id)
  }
}
