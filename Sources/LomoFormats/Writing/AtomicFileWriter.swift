import Foundation
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes one file atomically: bytes go to `<path>.tmp-<pid>` through a buffer, then
/// `commit()` fsyncs, closes and moves the temporary file onto `path` (with `link` + `unlink`
/// when the destination must not be replaced, so a file that appears meanwhile is still kept;
/// with `rename` when overwriting). Any failure, or dropping the writer without committing,
/// removes the temporary file and leaves the destination untouched.
public final class AtomicFileWriter {
  public let path: String
  public let temporaryPath: String
  public let overwrite: Bool
  /// Bytes written so far (the offset of the next byte).
  public private(set) var offset = 0

  private var fd: Int32
  private var buffer: [UInt8] = []
  private let bufferLimit = 1 << 20
  private var committed = false

  /// Opens the temporary file. Throws `.destinationExists` before creating anything when
  /// `path` exists and `overwrite` is false.
  public init(path: String, overwrite: Bool) throws(FileWriteError) {
    self.path = path
    self.overwrite = overwrite
    temporaryPath = "\(path).tmp-\(getpid())"
    if !overwrite && Self.exists(path) { throw FileWriteError(path: path, problem: .destinationExists) }
    var st = stat()
    if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
      throw FileWriteError(path: path, problem: .io(operation: "replace", file: path, reason: "it is a directory"))
    }
    fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd < 0 {
      throw FileWriteError(path: path, problem: .io(operation: "create", file: temporaryPath, reason: Self.lastError()))
    }
    buffer.reserveCapacity(bufferLimit)
  }

  deinit { if !committed { discard() } }

  /// Writes `bytes` as the whole file at `path`: all of it or, on any failure, nothing.
  public static func write(_ bytes: [UInt8], to path: String, overwrite: Bool) throws(FileWriteError) {
    let writer = try AtomicFileWriter(path: path, overwrite: overwrite)
    do {
      try writer.write(bytes)
      try writer.commit()
    } catch {
      writer.discard()
      throw error
    }
  }

  /// Whether anything (file, folder, link) exists at `path`.
  public static func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
  }

  static func lastError() -> String { FileDescriptorWrite.reason(errno) }

  private func fail(_ operation: String, file: String? = nil) -> FileWriteError {
    let error = FileWriteError(path: path, problem: .io(operation: operation, file: file ?? temporaryPath, reason: Self.lastError()))
    discard()
    return error
  }

  /// Closes and removes the temporary file; the destination is not touched.
  public func discard() {
    if fd >= 0 { close(fd); fd = -1 }
    unlink(temporaryPath)
    committed = true
  }

  public func write(_ bytes: UnsafeRawBufferPointer) throws(FileWriteError) {
    guard !bytes.isEmpty else { return }
    if buffer.count + bytes.count > bufferLimit {
      try flush()
      if bytes.count >= bufferLimit {
        try writeAll(bytes)
        offset += bytes.count
        return
      }
    }
    buffer.append(contentsOf: bytes)
    offset += bytes.count
  }

  public func write(_ bytes: [UInt8]) throws(FileWriteError) {
    // Typed throws do not pass through withUnsafeBytes's rethrows; carry the error out.
    var failure: FileWriteError?
    bytes.withUnsafeBytes { raw in
      do throws(FileWriteError) { try write(raw) } catch { failure = error }
    }
    if let failure { throw failure }
  }

  public func write<T: FixedWidthInteger>(littleEndian value: T) throws(FileWriteError) {
    var le = value.littleEndian
    var failure: FileWriteError?
    withUnsafeBytes(of: &le) { raw in
      do throws(FileWriteError) { try write(raw) } catch { failure = error }
    }
    if let failure { throw failure }
  }

  /// Writes zero bytes up to the next multiple of `alignment`.
  public func pad(to alignment: Int, with byte: UInt8 = 0) throws(FileWriteError) {
    let remainder = offset % alignment
    if remainder != 0 { try write([UInt8](repeating: byte, count: alignment - remainder)) }
  }

  private func flush() throws(FileWriteError) {
    guard !buffer.isEmpty else { return }
    var failure: FileWriteError?
    buffer.withUnsafeBytes { raw in
      do throws(FileWriteError) { try writeAll(raw) } catch { failure = error }
    }
    if let failure { throw failure }
    buffer.removeAll(keepingCapacity: true)
  }

  private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(FileWriteError) {
    let code = FileDescriptorWrite.all(fd, bytes)
    if code != 0 {
      errno = code
      throw fail("write")
    }
  }

  /// Flushes, fsyncs and moves the temporary file onto the destination.
  public func commit() throws(FileWriteError) {
    try flush()
    if fsync(fd) != 0 { throw fail("fsync") }
    if close(fd) != 0 { fd = -1; throw fail("close") }
    fd = -1
    if overwrite {
      if rename(temporaryPath, path) != 0 { throw fail("rename", file: path) }
    } else {
      // link fails with EEXIST if the destination appeared since init: never replace it.
      if link(temporaryPath, path) != 0 {
        if errno == EEXIST {
          discard()
          throw FileWriteError(path: path, problem: .destinationExists)
        }
        // Filesystems without hard links: check, then rename.
        if Self.exists(path) {
          discard()
          throw FileWriteError(path: path, problem: .destinationExists)
        }
        if rename(temporaryPath, path) != 0 { throw fail("rename", file: path) }
      } else {
        unlink(temporaryPath)
      }
    }
    committed = true
    Self.syncDirectory(of: path)
  }

  /// Makes a rename durable: fsync the containing directory (best effort).
  public static func syncDirectory(of path: String) {
    let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
    let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dfd >= 0 { fsync(dfd); close(dfd) }
  }

  /// Pulls one tensor's `count` f32 values from `values` into `staging` (grown as needed),
  /// encodes them as `type` and appends the bytes. A throwing provider becomes `.tensorSource`.
  func writeTensor(
    _ name: String, count: Int, as type: GGMLType, staging: inout [Float],
    values provider: GGUFWriter.ValueProvider
  ) throws(FileWriteError) {
    guard count > 0 else { return }
    if staging.count < count { staging = [Float](repeating: 0, count: count) }
    do {
      try staging.withUnsafeMutableBufferPointer { buffer in
        try provider(UnsafeMutableBufferPointer(rebasing: buffer[0..<count]))
      }
    } catch {
      throw FileWriteError(path: path, problem: .tensorSource(name: name, reason: "\(error)"))
    }
    guard let byteCount = Quantize.byteCount(type, count: count) else {
      throw FileWriteError(path: path, problem: .invalidTensor(name: name, reason: "\(count) values do not fill whole \(type) blocks"))
    }
    var encoded = [UInt8](repeating: 0, count: byteCount)
    staging.withUnsafeBufferPointer { values in
      encoded.withUnsafeMutableBytes { out in
        guard let base = out.baseAddress else { return }
        Quantize.encode(type, UnsafeBufferPointer(rebasing: values[0..<count]), into: base)
      }
    }
    try write(encoded)
  }
}
