/// Receives each parameter's gradient the moment backward has finished it: after every read of
/// the parameter in this step, so the updater may change the parameter at once (LOMO's fused
/// update). Called exactly once per parameter per backward pass, the tied embedding/LM head
/// once with the sum of both contributions.
public protocol ParameterUpdater: AnyObject {
  /// - Parameters:
  ///   - parameter: the tensor, in its storage dtype.
  ///   - gradient: f32 [parameter.count], ∂(gradScale · loss)/∂parameter. Scratch that
  ///     backward reuses right after the call: the updater may modify it in place but must
  ///     copy what it keeps.
  func update(_ parameter: ParameterTensor, gradient: UnsafeMutablePointer<Float>)
  /// Whether `update` may change the parameter (false for one that only measures); a sharded
  /// model gathers a changed tensor again before its next use.
  var changesParameters: Bool { get }
}

extension ParameterUpdater {
  public var changesParameters: Bool { true }
}
