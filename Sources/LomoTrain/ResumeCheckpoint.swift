import Foundation
import LomoCore
import LomoFormats
import LomoModel
import LomoOptim

/// A resumable training checkpoint: a directory holding
///
/// - `state.json`: `TrainingState` plus a manifest of the tensors (name, dtype, shape, offset,
///   byte count and, from version 2, a `Checksum64` of the tensor's bytes as 16 hex digits);
/// - `tensors.bin`: the raw little-endian bytes of every parameter in its storage dtype (so
///   bf16/f16 weights round-trip bit-exactly) and of the optimizer's arrays (f32), back to back.
///
/// This is lomo's internal resume format, not a user-facing export (GGUF and safetensors are).
/// Saving writes both files through `AtomicFileWriter`s inside an `AtomicDirectory`: an existing
/// directory is replaced only when `overwrite` is set, and then only after the new one is
/// complete and fsynced; a failed write (a full disk) throws and leaves nothing behind.
/// Loading checks the manifest against the file and every checksum before it changes the model.
/// Version 1 checkpoints (no checksums) still load, their tensors unverified.
public enum ResumeCheckpoint {
  public struct TensorEntry: Sendable, Equatable, Codable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var offset: Int
    public var byteCount: Int
    /// `Checksum64` of the bytes, 16 hex digits (absent in version 1).
    public var checksum: String?
  }

  struct Manifest: Codable {
    var state: TrainingState
    var tensors: [TensorEntry]
  }

  static let stateFile = "state.json"
  static let tensorFile = "tensors.bin"
  static let optimizerPrefix = "optimizer/"

  public static func save(
    to directory: URL, state: TrainingState, parameters: LlamaParameters,
    optimizerArrays: [String: [Float]], overwrite: Bool
  ) throws(TrainingError) {
    let path = directory.path
    do {
      try Folders.createParent(of: path)
      try AtomicDirectory.write(to: path, overwrite: overwrite) { folder in
        let bin = try AtomicFileWriter(path: folder.path(tensorFile), overwrite: false)
        var entries: [TensorEntry] = []
        func append(_ name: String, _ dtype: DType, _ shape: [Int], _ raw: UnsafeRawBufferPointer) throws {
          entries.append(TensorEntry(name: name, dtype: dtype, shape: shape, offset: bin.offset,
                                     byteCount: raw.count, checksum: Checksum64(raw).description))
          try bin.write(raw)
        }
        try parameters.forEachTensor(writing: false) { p in
          try withRawBytes(p) { try append(p.id.description, p.dtype, p.shape, $0) }
        }
        for (name, values) in optimizerArrays.sorted(by: { $0.key < $1.key }) {
          try values.withUnsafeBytes { try append(optimizerPrefix + name, .f32, [values.count], $0) }
        }
        try bin.commit()
        var stored = state
        stored.version = TrainingState.currentVersion
        let json = try JSONValue(encoding: Manifest(state: stored, tensors: entries))
        try AtomicFileWriter.write(json.serialized([.pretty, .sortedKeys]), to: folder.path(stateFile),
                                   overwrite: false)
      }
    } catch let error as FileWriteError {
      throw writeError(error, checkpoint: path)
    } catch let error as TrainingError {
      throw error
    } catch {
      throw TrainingError.checkpoint(path: path, problem: "\(error)")
    }
  }

  /// A failed write of the checkpoint at `path`, said for the user.
  static func writeError(_ error: FileWriteError, checkpoint path: String) -> TrainingError {
    switch error.problem {
    case .destinationExists:
      return .checkpoint(path: path, problem: "already exists (pass --overwrite to replace it)")
    case .io(let operation, let file, let reason):
      let full = reason == String(cString: strerror(ENOSPC)) ? " (the disk is full)" : ""
      return .checkpoint(path: path, problem: "cannot be written: \(operation) of \(file) failed: \(reason)\(full); nothing was left behind")
    default:
      return .checkpoint(path: path, problem: error.description)
    }
  }

  /// Reads `state.json` only (its fields are checked by `TrainingState.problems`).
  public static func loadState(from directory: URL) throws(TrainingError) -> TrainingState {
    try manifest(directory).state
  }

  /// Reads the state, checks every tensor of the manifest against `tensors.bin` (inside the
  /// file, the parameters' names, shapes and dtypes, the checksums, every weight finite), hands
  /// the state and the optimizer's arrays to `accept` (which throws to refuse them, e.g. an
  /// optimizer that cannot restore them), then copies the stored parameters into `parameters`.
  /// On any error, `accept`'s included, the model is untouched.
  public static func load(
    from directory: URL, into parameters: LlamaParameters,
    accept: (TrainingState, [String: [Float]]) throws(TrainingError) -> Void
  ) throws(TrainingError) -> TrainingState {
    let m = try manifest(directory)
    let binPath = directory.appendingPathComponent(tensorFile).path
    func fail(_ problem: String) -> TrainingError { .checkpoint(path: binPath, problem: problem) }
    let file: MappedFile
    do { file = try MappedFile(path: binPath) } catch {
      throw fail("cannot be read: \(error.reason)")
    }
    let data = file.bytes
    var byName: [String: TensorEntry] = [:]
    for e in m.tensors {
      guard e.offset >= 0, e.byteCount >= 0, e.offset <= data.count, e.byteCount <= data.count - e.offset else {
        throw fail("tensor \(e.name) (bytes \(e.offset) + \(e.byteCount)) lies outside the file's \(data.count) bytes; the checkpoint is truncated or its state.json was edited")
      }
      guard byName.updateValue(e, forKey: e.name) == nil else {
        throw fail("tensor \(e.name) is listed twice in state.json")
      }
      let bytes = UnsafeRawBufferPointer(rebasing: data[e.offset..<(e.offset + e.byteCount)])
      if m.state.version >= 2 {
        guard let text = e.checksum, let expected = Checksum64(hex: text) else {
          throw fail("tensor \(e.name) has no valid checksum in state.json (field 'checksum': 16 hex digits)")
        }
        let actual = Checksum64(bytes)
        guard actual == expected else {
          throw fail("tensor \(e.name) is corrupt: its checksum is \(actual), state.json says \(expected); the file was damaged after it was written; resume from another checkpoint or start again")
        }
      }
    }
    for p in parameters.all {
      guard let e = byName[p.id.description] else { throw fail("missing tensor \(p.id)") }
      guard e.dtype == p.dtype, e.shape == p.shape, e.byteCount == p.count * p.dtype.byteSize else {
        throw fail("tensor \(p.id) is \(e.dtype) \(e.shape), the model has \(p.dtype) \(p.shape)")
      }
      let bytes = UnsafeRawBufferPointer(rebasing: data[e.offset..<(e.offset + e.byteCount)])
      if let index = e.dtype.firstNonFiniteIndex(in: bytes) {
        throw fail("weight \(index) of \(p.id) is not finite (inf or NaN); resume from another checkpoint")
      }
    }
    var arrays: [String: [Float]] = [:]
    for e in m.tensors where e.name.hasPrefix(optimizerPrefix) {
      guard e.dtype == .f32, e.byteCount % 4 == 0, e.shape == [e.byteCount / 4] else {
        throw fail("optimizer tensor \(e.name) is not an f32 vector of its \(e.byteCount) bytes")
      }
      let values = [Float](unsafeUninitializedCapacity: e.byteCount / 4) { buf, n in
        UnsafeMutableRawBufferPointer(buf).copyMemory(
          from: UnsafeRawBufferPointer(rebasing: data[e.offset..<(e.offset + e.byteCount)]))
        n = e.byteCount / 4
      }
      arrays[String(e.name.dropFirst(optimizerPrefix.count))] = values
    }
    try accept(m.state, arrays)
    // Everything is checked: only now does the model change.
    parameters.forEachTensor(writing: true) { p in
      guard let e = byName[p.id.description] else { return }
      withMutableRawBytes(p) { dest in
        dest.copyMemory(from: UnsafeRawBufferPointer(rebasing: data[e.offset..<(e.offset + e.byteCount)]))
      }
    }
    return m.state
  }

  static func manifest(_ directory: URL) throws(TrainingError) -> Manifest {
    let file = directory.appendingPathComponent(stateFile).path
    let mapped: MappedFile
    do { mapped = try MappedFile(path: file) } catch {
      throw TrainingError.checkpoint(path: file, problem: "cannot be read (\(error.reason)); --resume takes a checkpoint folder holding state.json and tensors.bin")
    }
    let manifest: Manifest
    do throws(JSONError) {
      manifest = try JSONField(JSONValue(parsing: Data(mapped.bytes))).decode(Manifest.self)
    } catch {
      throw TrainingError.checkpoint(path: file, problem: "\(error)")
    }
    guard manifest.state.version <= TrainingState.currentVersion else {
      throw TrainingError.checkpoint(path: file, problem: "field 'version' is \(manifest.state.version); this lomo reads versions up to \(TrainingState.currentVersion) (a newer lomo wrote it)")
    }
    return manifest
  }

  static func withRawBytes<T>(_ p: ParameterTensor, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
    switch p.storage {
    case .f32(let b): try body(UnsafeRawBufferPointer(start: b.pointer, count: b.byteCount))
    case .bf16(let b): try body(UnsafeRawBufferPointer(start: b.pointer, count: b.byteCount))
    case .f16(let b): try body(UnsafeRawBufferPointer(start: b.pointer, count: b.byteCount))
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
