import LomoCore

/// Tensor data as f32 (or bf16), in row-major order with shape `info.shape`.
extension GGUFFile {
  /// The tensor `name` dequantised to f32, row-major with shape `tensor(name).shape`.
  public func tensorData(_ name: String) throws(GGUFError) -> [Float] {
    let info = try dequantisable(name)
    return [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
      withExtendedLifetime(bytes) {
        Dequantize.toFloat(
          info.type, from: rawBytes(info).baseAddress!, count: info.elementCount,
          into: buffer.baseAddress!)
      }
      initialized = info.elementCount
    }
  }

  /// Dequantises tensor `name` into `destination`, which must hold exactly its element count.
  /// Returns the tensor's info (its `shape` describes the layout written).
  @discardableResult
  public func dequantize(_ name: String, into destination: UnsafeMutableBufferPointer<Float>)
    throws(GGUFError) -> GGUFTensorInfo
  {
    let info = try dequantisable(name)
    try checkCount(info, destination.count)
    withExtendedLifetime(bytes) {
      Dequantize.toFloat(
        info.type, from: rawBytes(info).baseAddress!, count: info.elementCount,
        into: destination.baseAddress!)
    }
    return info
  }

  /// Dequantises tensor `name` into bf16 storage (round to nearest even).
  @discardableResult
  public func dequantize(_ name: String, into destination: UnsafeMutableBufferPointer<BFloat16>)
    throws(GGUFError) -> GGUFTensorInfo
  {
    let info = try dequantisable(name)
    try checkCount(info, destination.count)
    withExtendedLifetime(bytes) {
      Dequantize.toBFloat16(
        info.type, from: rawBytes(info).baseAddress!, count: info.elementCount,
        into: destination.baseAddress!)
    }
    return info
  }

  private func dequantisable(_ name: String) throws(GGUFError) -> GGUFTensorInfo {
    let info = try tensor(name)
    guard info.type.isDequantisable else {
      throw .unsupportedTensorType(path: path, tensor: name, type: info.type)
    }
    return info
  }

  private func checkCount(_ info: GGUFTensorInfo, _ count: Int) throws(GGUFError) {
    guard count == info.elementCount else {
      throw .shapeMismatch(
        path: path, tensor: info.name,
        description: "destination holds \(count) elements, tensor has \(info.elementCount) "
          + "(shape \(info.shape))")
    }
  }
}
