import Foundation
import LomoCore
import LomoFormats
import LomoModel
import LomoOptim

/// A resumable training checkpoint: a directory holding
///
/// - `state.json`: `TrainingState` plus a manifest of the tensors (name, dtype, shape, offset);
/// - `tensors.bin`: the raw little-endian bytes of every parameter in its storage dtype (so
///   bf16/f16 weights round-trip bit-exactly) and of the optimizer's arrays (f32), back to back.
///
/// This is lomo's internal resume format, not a user-facing export (GGUF and safetensors are).
/// Saving writes the directory through an `AtomicDirectory`: an existing directory is replaced
/// only when `overwrite` is set, and then only after the new one is complete and fsynced.
public enum ResumeCheckpoint {
  public struct TensorEntry: Sendable, Equatable, Codable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var offset: Int
    public var byteCount: Int
  }

  struct Manifest: Codable {
    var state: TrainingState
    var tensors: [TensorEntry]
  }

  public static func save(
    to directory: URL, state: TrainingState, parameters: LlamaParameters,
    optimizerArrays: [String: [Float]], overwrite: Bool
  ) throws {
    let fm = FileManager.default
    let path = directory.path
    do {
      try fm.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
      let folder = try AtomicDirectory(destination: path, overwrite: overwrite)
      let temp = URL(fileURLWithPath: folder.stagingPath)
      guard fm.createFile(atPath: temp.appendingPathComponent("tensors.bin").path, contents: nil),
            let out = FileHandle(forWritingAtPath: temp.appendingPathComponent("tensors.bin").path)
      else { throw TrainingError.checkpoint(path: path, problem: "cannot write tensors.bin") }
      var entries: [TensorEntry] = []
      var offset = 0
      func append(_ name: String, _ dtype: DType, _ shape: [Int], _ raw: UnsafeRawBufferPointer) {
        out.write(Data(raw))
        entries.append(TensorEntry(name: name, dtype: dtype, shape: shape, offset: offset,
                                   byteCount: raw.count))
        offset += raw.count
      }
      for p in parameters.all {
        withRawBytes(p) { append(p.id.description, p.dtype, p.shape, $0) }
      }
      for name in optimizerArrays.keys.sorted() {
        let values = optimizerArrays[name]!
        values.withUnsafeBytes { append("optimizer/" + name, .f32, [values.count], $0) }
      }
      try out.synchronize()
      try out.close()
      let json = Data(try JSONValue(encoding: Manifest(state: state, tensors: entries)).serialized([.pretty, .sortedKeys]))
      try json.write(to: temp.appendingPathComponent("state.json"), options: .atomic)
      try folder.commit()
    } catch let error as FileWriteError where error.problem == .destinationExists {
      throw TrainingError.checkpoint(path: path, problem: "already exists (pass --overwrite to replace it)")
    } catch {
      if let e = error as? TrainingError { throw e }
      throw TrainingError.checkpoint(path: path, problem: "\(error)")
    }
  }

  /// Reads `state.json` only.
  public static func loadState(from directory: URL) throws -> TrainingState {
    try manifest(directory).state
  }

  /// Reads the state, copies the stored parameters into `parameters` (which must have the same
  /// names, shapes and dtype) and returns the optimizer's arrays.
  public static func load(from directory: URL, into parameters: LlamaParameters) throws
    -> (state: TrainingState, optimizerArrays: [String: [Float]])
  {
    let path = directory.path
    let m = try manifest(directory)
    let binPath = directory.appendingPathComponent("tensors.bin").path
    guard let data = FileManager.default.contents(atPath: binPath) else {
      throw TrainingError.checkpoint(path: path, problem: "cannot read tensors.bin")
    }
    var byName: [String: TensorEntry] = [:]
    for e in m.tensors {
      guard e.offset >= 0, e.byteCount >= 0, e.offset + e.byteCount <= data.count else {
        throw TrainingError.checkpoint(path: path, problem: "tensor \(e.name) lies outside tensors.bin")
      }
      byName[e.name] = e
    }
    // Validate everything before touching the model.
    for p in parameters.all {
      guard let e = byName[p.id.description] else {
        throw TrainingError.checkpoint(path: path, problem: "missing tensor \(p.id)")
      }
      guard e.dtype == p.dtype, e.shape == p.shape, e.byteCount == p.count * p.dtype.byteSize else {
        throw TrainingError.checkpoint(
          path: path,
          problem: "tensor \(p.id) is \(e.dtype) \(e.shape), the model has \(p.dtype) \(p.shape)")
      }
    }
    data.withUnsafeBytes { raw in
      for p in parameters.all {
        let e = byName[p.id.description]!
        withMutableRawBytes(p) { dest in
          dest.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[e.offset..<(e.offset + e.byteCount)]))
        }
      }
    }
    var arrays: [String: [Float]] = [:]
    for e in m.tensors where e.name.hasPrefix("optimizer/") {
      guard e.dtype == .f32, e.byteCount % 4 == 0 else {
        throw TrainingError.checkpoint(path: path, problem: "optimizer tensor \(e.name) is not f32")
      }
      let values = [Float](unsafeUninitializedCapacity: e.byteCount / 4) { buf, n in
        data.withUnsafeBytes { raw in
          UnsafeMutableRawBufferPointer(buf).copyMemory(
            from: UnsafeRawBufferPointer(rebasing: raw[e.offset..<(e.offset + e.byteCount)]))
        }
        n = e.byteCount / 4
      }
      arrays[String(e.name.dropFirst("optimizer/".count))] = values
    }
    return (m.state, arrays)
  }

  static func manifest(_ directory: URL) throws -> Manifest {
    let path = directory.path
    let file = directory.appendingPathComponent("state.json")
    guard let json = FileManager.default.contents(atPath: file.path) else {
      throw TrainingError.checkpoint(path: path, problem: "no state.json (not a resume directory)")
    }
    do throws(JSONError) {
      return try JSONField(JSONValue(parsing: json)).decode(Manifest.self)
    } catch {
      throw TrainingError.checkpoint(path: path, problem: "state.json: \(error)")
    }
  }

  static func withRawBytes(_ p: ParameterTensor, _ body: (UnsafeRawBufferPointer) -> Void) {
    switch p.storage {
    case .f32(let b): body(UnsafeRawBufferPointer(start: b.pointer, count: b.byteCount))
    case .bf16(let b): body(UnsafeRawBufferPointer(start: b.pointer, count: b.byteCount))
    case .f16(let b): body(UnsafeRawBufferPointer(start: b.pointer, count: b.byteCount))
    }
  }

  static func withMutableRawBytes(_ p: ParameterTensor, _ body: (UnsafeMutableRawBufferPointer) -> Void) {
    switch p.storage {
    case .f32(let b): body(UnsafeMutableRawBufferPointer(start: b.pointer, count: b.byteCount))
    case .bf16(let b): body(UnsafeMutableRawBufferPointer(start: b.pointer, count: b.byteCount))
    case .f16(let b): body(UnsafeMutableRawBufferPointer(start: b.pointer, count: b.byteCount))
    }
  }
}
