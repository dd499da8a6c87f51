import LomoCore

extension ParameterTensor {
  /// The index of the first inf or NaN element, nil when every element is finite
  /// (`DType.firstNonFiniteIndex(in:)` over the storage: one read, nothing converted).
  public func firstNonFiniteIndex() -> Int? {
    switch storage {
    case .f32(let b): dtype.firstNonFiniteIndex(in: UnsafeRawBufferPointer(start: b.pointer, count: 4 * count))
    case .bf16(let b): dtype.firstNonFiniteIndex(in: UnsafeRawBufferPointer(start: b.pointer, count: 2 * count))
    case .f16(let b): dtype.firstNonFiniteIndex(in: UnsafeRawBufferPointer(start: b.pointer, count: 2 * count))
    }
  }
}

extension LlamaParameters {
  /// The first tensor (in `all` order) holding an inf or NaN, with the element's index; nil
  /// when the whole model is finite. One read of every weight: check a model before it is
  /// exported or used, since a diverged run or a corrupt file can hold such values.
  public func firstNonFinite() -> (parameter: ParameterID, index: Int)? {
    var found: (parameter: ParameterID, index: Int)?
    forEachTensor(writing: false) { p in
      if found == nil, let i = p.firstNonFiniteIndex() { found = (p.id, i) }
    }
    return found
  }
}
