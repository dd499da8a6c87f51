import LomoModel

extension ParameterTensor {
  /// The raw bit patterns of the storage, for bit-equality checks: f32 bits, or the bf16/f16
  /// patterns widened to 32 bits.
  public var storageBits: [UInt32] {
    switch storage {
    case .f32(let b): b.array.map(\.bitPattern)
    case .bf16(let b): b.array.map { UInt32($0.bitPattern) }
    case .f16(let b): b.array.map { UInt32($0.bitPattern) }
    }
  }

  /// The values widened to f32.
  public func floatValues() -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { out, initialized in
      copyAsFloat(into: out.baseAddress!)
      initialized = count
    }
  }
}

extension LlamaParameters {
  /// Every parameter's `storageBits`, by id.
  public var storageBits: [ParameterID: [UInt32]] {
    Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.storageBits) })
  }
}
