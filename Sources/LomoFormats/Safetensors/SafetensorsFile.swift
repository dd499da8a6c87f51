import Foundation
import LomoCore

/// A `.safetensors` file: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian data. Memory-mapped.
///
/// Every field is validated against the file before use: the header length against the file
/// size (and a 100 MiB cap), each byte range against the data section and against its
/// shape × dtype size, and ranges for overlap.
public final class SafetensorsFile: @unchecked Sendable {
  public enum DType: String, Sendable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16"

    public var byteSize: Int { self == .f32 ? 4 : 2 }
  }

  public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte range within the data section.
    public let range: Range<Int>
    public var count: Int { shape.reduce(1, *) }
  }

  public static let maxHeaderBytes = 100 << 20

  public let path: String
  public let tensors: [String: TensorInfo]
  /// Free-form string metadata (`__metadata__`).
  public let metadata: [String: String]
  private let file: MappedFile
  private let dataStart: Int

  public init(path: String) throws {
    do { file = try MappedFile(path: path) } catch {
      throw SafetensorsError(path: path, problem: .unreadable(error.reason))
    }
    self.path = path
    func fail(_ p: SafetensorsError.Problem) -> SafetensorsError { SafetensorsError(path: path, problem: p) }

    guard file.count >= 8 else { throw fail(.truncated("file is \(file.count) bytes, shorter than the 8-byte header length")) }
    let headerLength = UInt64(littleEndian: file.bytes.loadUnaligned(as: UInt64.self))
    guard headerLength <= UInt64(Self.maxHeaderBytes) else {
      throw fail(.invalidHeader("header length \(headerLength) exceeds \(Self.maxHeaderBytes) bytes"))
    }
    guard Int(headerLength) <= file.count - 8 else {
      throw fail(.truncated("header length \(headerLength) runs past the end of the \(file.count)-byte file"))
    }
    dataStart = 8 + Int(headerLength)
    let dataSize = file.count - dataStart
    let header: JSONValue
    do throws(JSONError) {
      header = try JSONValue(parsing: UnsafeRawBufferPointer(rebasing: file.bytes[8..<dataStart]))
    } catch {
      throw fail(.invalidHeader("\(error)"))
    }
    guard case .object(let entries) = header else { throw fail(.invalidHeader("header is not a JSON object")) }

    // Duplicate names: the last entry wins, as with any JSON object.
    var tensors: [String: TensorInfo] = [:]
    var metadata: [String: String] = [:]
    for (name, value) in entries.members {
      if name == "__metadata__" {
        guard case .object(let pairs) = value else { throw fail(.invalidHeader("__metadata__ is not an object")) }
        for (k, v) in pairs.members {
          guard let s = v.stringValue else { throw fail(.invalidHeader("__metadata__ value for '\(k)' is not a string")) }
          metadata[k] = s
        }
        continue
      }
      tensors[name] = try Self.tensorInfo(name: name, value: value, dataSize: dataSize, fail: fail)
    }
    let sorted = tensors.values.sorted { $0.range.lowerBound < $1.range.lowerBound }
    for (a, b) in zip(sorted, sorted.dropFirst()) where a.range.overlaps(b.range) {
      throw fail(.invalidTensor(b.name, "byte range \(b.range) overlaps '\(Format.excerpt(a.name))' \(a.range)"))
    }
    self.tensors = tensors
    self.metadata = metadata
  }

  private static func tensorInfo(
    name: String, value: JSONValue, dataSize: Int, fail: (SafetensorsError.Problem) -> SafetensorsError
  ) throws -> TensorInfo {
    guard let entry = value.objectValue else { throw fail(.invalidTensor(name, "entry is not an object")) }
    guard let dtypeName = entry["dtype"]?.stringValue else { throw fail(.invalidTensor(name, "missing dtype")) }
    guard let dtype = DType(rawValue: dtypeName) else {
      throw fail(.unsupportedDType(name, dtypeName))
    }
    guard let shapeValues = entry["shape"]?.arrayValue, shapeValues.count <= 8 else {
      throw fail(.invalidTensor(name, "shape missing or of more than 8 dimensions"))
    }
    func integer(_ v: JSONValue) -> Int? { if case .number(let n) = v { n.integer(Int.self) } else { nil } }
    let written = JSONValue.array(shapeValues)
    var shape: [Int] = []
    var count = 1
    for v in shapeValues {
      guard let n = integer(v), n >= 0 else { throw fail(.invalidTensor(name, "shape \(written) has a non-integer or negative dimension")) }
      let (product, overflow) = count.multipliedReportingOverflow(by: n)
      guard !overflow, product <= dataSize else { throw fail(.invalidTensor(name, "shape \(written) is larger than the file")) }
      shape.append(n)
      count = product
    }
    guard let offsets = entry["data_offsets"]?.arrayValue, offsets.count == 2,
          let begin = integer(offsets[0]), let end = integer(offsets[1]), begin >= 0, begin <= end
    else { throw fail(.invalidTensor(name, "data_offsets must be two ordered non-negative integers")) }
    guard end <= dataSize else {
      throw fail(.truncated("tensor '\(name)' ends at data byte \(end), past the data section's \(dataSize) bytes"))
    }
    guard end - begin == count * dtype.byteSize else {
      throw fail(.invalidTensor(name, "\(end - begin) bytes do not hold shape \(shape) of \(dtype.rawValue)"))
    }
    return TensorInfo(name: name, dtype: dtype, shape: shape, range: begin..<end)
  }

  /// Raw bytes of a tensor (little-endian elements of its dtype).
  public func bytes(of tensor: TensorInfo) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(rebasing: file.bytes[(dataStart + tensor.range.lowerBound)..<(dataStart + tensor.range.upperBound)])
  }

  /// Writes tensor `name` widened to f32 into `out` (`expectedShape` elements).
  public func readFloats(_ name: String, expectedShape: [Int], into out: UnsafeMutablePointer<Float>) throws {
    guard let t = tensors[name] else { throw SafetensorsError(path: path, problem: .missingTensor(name)) }
    guard t.shape == expectedShape else {
      throw SafetensorsError(path: path, problem: .invalidTensor(name, "shape \(t.shape), expected \(expectedShape)"))
    }
    let raw = bytes(of: t)
    switch t.dtype {
    case .f32:  // little-endian host: the bytes are the values
      UnsafeMutableRawPointer(out).copyMemory(from: raw.baseAddress!, byteCount: raw.count)
    case .bf16:
      for i in 0..<t.count { out[i] = BFloat16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))).float }
    case .f16:
      for i in 0..<t.count { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
    }
  }
}

/// A safetensors file that cannot be used, naming the file and what is wrong; names read from
/// the file are shown through `Format.excerpt` (bounded, control bytes escaped).
public struct SafetensorsError: Error, CustomStringConvertible, Equatable {
  public enum Problem: Equatable, Sendable {
    case unreadable(String)
    case truncated(String)
    case invalidHeader(String)
    case invalidTensor(String, String)
    case unsupportedDType(String, String)
    case missingTensor(String)
    case duplicateTensor(String)
  }

  public let path: String
  public let problem: Problem

  public var description: String {
    switch problem {
    case .unreadable(let why): "\(path): cannot read the file: \(why)"
    case .truncated(let why): "\(path): truncated safetensors file: \(why)"
    case .invalidHeader(let why): "\(path): invalid safetensors header: \(why)"
    case .invalidTensor(let name, let why): "\(path): tensor '\(Format.excerpt(name))': \(why)"
    case .unsupportedDType(let name, let dtype): "\(path): tensor '\(Format.excerpt(name))' has dtype \(Format.excerpt(dtype)); lomo reads F32, F16 and BF16"
    case .missingTensor(let name): "\(path): no tensor named '\(Format.excerpt(name))'"
    case .duplicateTensor(let name): "\(path): tensor '\(Format.excerpt(name))' appears in more than one shard"
    }
  }
}
