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
    try withSource(name, count: destination.count) { info, source in
      Dequantize.toFloat(
        info.type, from: source, count: info.elementCount, into: destination.baseAddress!)
    }
  }

  /// Dequantises tensor `name` into bf16 storage (round to nearest even).
  @discardableResult
  public func dequantize(_ name: String, into destination: UnsafeMutableBufferPointer<BFloat16>)
    throws(GGUFError) -> GGUFTensorInfo
  {
    try withSource(name, count: destination.count) { info, source in
      Dequantize.toBFloat16(
        info.type, from: source, count: info.elementCount, into: destination.baseAddress!)
    }
  }

  /// Checks that `name` exists, can be dequantised and has `count` elements, then calls `body`
  /// with its info and stored bytes while the mapping is alive.
  private func withSource(
    _ name: String, count: Int, _ body: (GGUFTensorInfo, UnsafeRawPointer) -> Void
  ) throws(GGUFError) -> GGUFTensorInfo {
    let info = try dequantisable(name)
    guard count == info.elementCount else {
      throw .shapeMismatch(
        path: path, tensor: info.name,
        description: "destination holds \(count) elements, tensor has \(info.elementCount) "
          + "(shape \(info.shape))")
    }
    withExtendedLifetime(bytes) { body(info, rawBytes(info).baseAddress!) }
    return info
  }

  private func dequantisable(_ name: String) throws(GGUFError) -> GGUFTensorInfo {
    let info = try tensor(name)
    guard info.type.isDequantisable else {
      throw .unsupportedTensorType(path: path, tensor: name, type: info.type)
    }
    return info
  }
}
