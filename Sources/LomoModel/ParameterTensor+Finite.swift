import LomoCore

extension ParameterTensor {
  /// The index of the first inf or NaN element, nil when every element is finite. Tests the
  /// exponent bits (all ones: inf or NaN) in the storage dtype, so it reads each element once
  /// and converts nothing: f32 `0x7F80_0000`, bf16 `0x7F80`, f16 `0x7C00`.
  public func firstNonFiniteIndex() -> Int? {
    switch storage {
    case .f32(let b):
      return UnsafeBufferPointer(start: b.pointer, count: count).firstIndex { !$0.isFinite }
    case .bf16(let b):
      return b.pointer.withMemoryRebound(to: UInt16.self, capacity: count) { p in
        UnsafeBufferPointer(start: p, count: count).firstIndex { $0 & 0x7F80 == 0x7F80 }
      }
    case .f16(let b):
      return b.pointer.withMemoryRebound(to: UInt16.self, capacity: count) { p in
        UnsafeBufferPointer(start: p, count: count).firstIndex { $0 & 0x7C00 == 0x7C00 }
      }
    }
  }
}

extension LlamaParameters {
  /// The first tensor (in `all` order) holding an inf or NaN, with the element's index; nil
  /// when the whole model is finite. One read of every weight: check a model before it is
  /// exported or used, since a diverged run or a corrupt file can hold such values.
  public func firstNonFinite() -> (parameter: ParameterID, index: Int)? {
    for p in all {
      if let i = p.firstNonFiniteIndex() { return (p.id, i) }
    }
    return nil
  }
}
