import Foundation
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes one folder atomically: the caller puts its files into a staging folder beside the
/// destination (`<parent>/.<name>.tmp-<pid>`), then `commit()` makes them durable and moves
/// the folder onto the destination. Until then the destination is untouched; any failure, or
/// dropping the value without committing, removes the staging folder.
///
/// `commit()`:
/// 1. fsyncs every file and folder under the staging folder (however they were written:
///    `AtomicFileWriter` already fsyncs its files, `FileHandle`/`Data.write` do not), then the
///    staging folder itself;
/// 2. without `overwrite`, renames it onto the destination, which must not exist
///    (`.destinationExists`; only an empty folder created meanwhile at the destination could
///    be replaced, as `rename` allows that, so nothing is lost);
///    with `overwrite`, moves an existing destination aside (`<parent>/.<name>.old-<pid>`),
///    renames the staging folder into place, moves the old folder back if that fails, and
///    deletes it once the new one is in place;
/// 3. fsyncs the parent folder, so the rename survives a crash.
///
/// A trailing "/" in the destination names the same folder ("out/model/" stages beside
/// "out/model", never inside it).
public final class AtomicDirectory {
  /// The destination folder, without trailing "/".
  public let destination: String
  /// The folder the caller writes into.
  public let stagingPath: String
  public let overwrite: Bool

  private let parent: String
  private let name: String
  /// The staging folder, opened at creation: it is fsynced through this descriptor.
  private var stagingFD: Int32
  private var finished = false

  /// Creates an empty staging folder (replacing a stale one of this process). Throws
  /// `.destinationExists` before creating anything when the destination exists and
  /// `overwrite` is false.
  public init(destination: String, overwrite: Bool) throws(FileWriteError) {
    var path = destination
    while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
    self.destination = path
    self.overwrite = overwrite
    if let slash = path.lastIndex(of: "/") {
      parent = slash == path.startIndex ? "/" : String(path[..<slash])
      name = String(path[path.index(after: slash)...])
    } else {
      parent = "."
      name = path
    }
    stagingPath = Self.sibling(parent, ".\(name).tmp-\(getpid())")
    stagingFD = -1
    if !overwrite && AtomicFileWriter.exists(path) {
      finished = true  // nothing was created: deinit must not remove anything
      throw FileWriteError(path: path, problem: .destinationExists)
    }
    try? FileManager.default.removeItem(atPath: stagingPath)
    if mkdir(stagingPath, 0o755) != 0 {
      finished = true
      throw error("create folder", stagingPath)
    }
    stagingFD = open(stagingPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if stagingFD < 0 {
      let failure = error("open", stagingPath)
      discard()
      throw failure
    }
  }

  deinit { if !finished { discard() } }

  /// The path of `name` (a file or folder name, or a relative path) inside the staging folder.
  public func path(_ name: String) -> String { stagingPath + "/" + name }

  /// Makes the staging folder's contents durable and moves it onto the destination (see the
  /// type's contract). On failure the destination is as it was and the staging folder is gone.
  public func commit() throws(FileWriteError) {
    precondition(!finished, "AtomicDirectory \(destination) was already committed or discarded")
    try moveIntoPlace { () throws(FileWriteError) in
      try syncTree(stagingFD, stagingPath)
      if fsync(stagingFD) != 0 { throw error("fsync", stagingPath) }
    }
  }

  /// Removes the staging folder; the destination is not touched.
  public func discard() {
    if stagingFD >= 0 { close(stagingFD); stagingFD = -1 }
    try? FileManager.default.removeItem(atPath: stagingPath)
    finished = true
  }

  /// Runs `body` with a new staging folder for `destination` and commits it when `body`
  /// returns; when `body` throws, the staging folder is removed and the error rethrown.
  public static func write<T>(
    to destination: String, overwrite: Bool, _ body: (AtomicDirectory) throws -> T
  ) throws -> T {
    let folder = try AtomicDirectory(destination: destination, overwrite: overwrite)
    let result: T
    do { result = try body(folder) } catch {
      folder.discard()
      throw error
    }
    try folder.commit()
    return result
  }

  /// Replaces `destination` (a folder, a link, or nothing) with a symbolic link to `target`
  /// (resolved from the destination's folder, e.g. "final"), through the same steps as
  /// `commit`: the link is made beside it, the old destination moved aside, the link renamed
  /// into place, the old one deleted. On failure the destination is as it was.
  public static func link(_ destination: String, to target: String) throws(FileWriteError) {
    try AtomicDirectory(destination: destination, overwrite: true).commitLink(to: target)
  }

  private func commitLink(to target: String) throws(FileWriteError) {
    try moveIntoPlace { () throws(FileWriteError) in
      if rmdir(stagingPath) != 0 { throw error("remove", stagingPath) }
      if symlink(target, stagingPath) != 0 { throw error("link", stagingPath) }
    }
  }

  /// Runs `prepare` (which makes the staging entry final), closes the staging folder, moves it
  /// onto the destination and syncs the parent; on failure removes the staging entry.
  private func moveIntoPlace(after prepare: () throws(FileWriteError) -> Void) throws(FileWriteError) {
    do throws(FileWriteError) {
      try prepare()
      close(stagingFD)
      stagingFD = -1
      try moveIntoPlace()
    } catch {
      discard()
      throw error
    }
    finished = true
    AtomicFileWriter.syncDirectory(of: destination)
  }

  private func moveIntoPlace() throws(FileWriteError) {
    guard AtomicFileWriter.exists(destination) else {
      if rename(stagingPath, destination) != 0 { throw error("rename", stagingPath) }
      return
    }
    guard overwrite else { throw FileWriteError(path: destination, problem: .destinationExists) }
    let old = Self.sibling(parent, ".\(name).old-\(getpid())")
    try? FileManager.default.removeItem(atPath: old)
    if rename(destination, old) != 0 { throw error("move aside", destination) }
    if rename(stagingPath, destination) != 0 {
      let failure = error("rename", stagingPath)
      _ = rename(old, destination)
      throw failure
    }
    try? FileManager.default.removeItem(atPath: old)
  }

  /// fsyncs every entry below the folder open as `fd` (recursively), without following links.
  private func syncTree(_ fd: Int32, _ path: String) throws(FileWriteError) {
    let listFD = dup(fd)
    guard listFD >= 0, let dir = fdopendir(listFD) else {
      if listFD >= 0 { close(listFD) }
      throw error("list", path)
    }
    defer { closedir(dir) }
    rewinddir(dir)
    while let entry = readdir(dir) {
      let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      if entryName == "." || entryName == ".." { continue }
      let entryPath = path + "/" + entryName
      let child = openat(fd, entryName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
      if child < 0 {
        if errno == ELOOP { continue }  // a symbolic link: nothing of its own to sync
        throw error("open", entryPath)
      }
      defer { close(child) }
      var st = stat()
      if fstat(child, &st) != 0 { throw error("stat", entryPath) }
      if (st.st_mode & S_IFMT) == S_IFDIR { try syncTree(child, entryPath) }
      if fsync(child) != 0 { throw error("fsync", entryPath) }
    }
  }

  private func error(_ operation: String, _ file: String) -> FileWriteError {
    FileWriteError(path: destination, problem: .io(operation: operation, file: file, reason: AtomicFileWriter.lastError()))
  }

  static func sibling(_ parent: String, _ name: String) -> String {
    parent == "/" ? "/" + name : parent + "/" + name
  }
}
