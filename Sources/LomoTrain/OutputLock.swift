import LomoFormats

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A training run's claim on its output folder, taken before the model is loaded: the folder
/// is created (or found), proven writable, and locked so that no second run writes into it.
///
/// The lock is `OUTPUT/.lock`, holding the owner's pid, with an exclusive `flock` on it. The
/// kernel drops a `flock` when its process ends however it ends (SIGKILL included), so a lock
/// left by a dead run is stale by construction and is simply taken over; the pid in the file
/// only names the owner in the message of a refused run. Releasing (deinit) removes the file
/// while still holding the lock; a run that opened the old file meanwhile sees that its file
/// is no longer the one at the path and opens again.
public final class OutputLock {
  public let directory: String
  public let lockPath: String
  private var fd: Int32

  public init(directory: String) throws(OutputFolderError) {
    self.directory = directory
    lockPath = (directory.hasSuffix("/") ? directory : directory + "/") + ".lock"
    do { try Folders.create(directory) } catch {
      guard case .io(_, let file, let reason) = error.problem else { throw .unusable(directory, "\(error)") }
      throw .unusable(directory, "\(file): \(reason)")
    }
    while true {
      let opened = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
      guard opened >= 0 else { throw .notWritable(directory, "\(lockPath): \(Self.lastError())") }
      if flock(opened, LOCK_EX | LOCK_NB) != 0 {
        let reason = Self.lastError()
        let busy = errno == EWOULDBLOCK
        let owner = busy ? Self.readPID(opened) : nil
        close(opened)
        if busy { throw .inUse(directory, pid: owner) }
        throw .notWritable(directory, "lock \(lockPath): \(reason)")
      }
      var held = stat(), current = stat()
      // The file was removed (or replaced) by its previous owner after we opened it: retry.
      if fstat(opened, &held) != 0 || stat(lockPath, &current) != 0 || held.st_ino != current.st_ino
        || held.st_dev != current.st_dev
      {
        close(opened)
        continue
      }
      fd = opened
      break
    }
    let pid = Array("\(getpid())\n".utf8)
    let written = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    if written != pid.count || ftruncate(fd, off_t(pid.count)) != 0 {
      let reason = written < 0 ? Self.lastError() : "short write"
      release()
      throw .notWritable(directory, "write \(lockPath): \(reason)")
    }
  }

  deinit { release() }

  /// Removes the lock file and drops the lock (idempotent).
  public func release() {
    guard fd >= 0 else { return }
    unlink(lockPath)
    close(fd)
    fd = -1
  }

  /// The pid written in the lock file open as `fd`, if it holds one.
  static func readPID(_ fd: Int32) -> Int32? {
    var bytes = [UInt8](repeating: 0, count: 32)
    let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
    guard n > 0 else { return nil }
    return Int32(String(decoding: bytes[0..<n].prefix(while: { $0 != 0x0A }), as: UTF8.self))
  }

  static func lastError() -> String { FileDescriptorWrite.reason(errno) }
}

/// An output folder that a training run cannot use, with the folder and what to do.
public enum OutputFolderError: Error, Equatable, CustomStringConvertible {
  /// The folder cannot be created: what is in the way (a file, a read-only parent...).
  case unusable(String, String)
  /// The folder exists but nothing can be written in it.
  case notWritable(String, String)
  /// Another run holds the folder's lock (its pid when the lock file names one).
  case inUse(String, pid: Int32?)

  public var description: String {
    switch self {
    case .unusable(let folder, let reason):
      "\(folder): cannot be the output folder: \(reason); choose another --output"
    case .notWritable(let folder, let reason):
      "\(folder): the output folder is not writable (\(reason)); choose a writable --output"
    case .inUse(let folder, let pid):
      "\(folder): another lomo run (\(pid.map { "pid \($0)" } ?? "pid unknown")) is writing into this output folder; wait for it to end or choose another --output"
    }
  }
}
