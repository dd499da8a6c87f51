#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A whole file mapped read-only into memory. Pages load on first touch, so opening a
/// multi-gigabyte checkpoint costs nothing until its tensors are read. `init(copying:path:)`
/// holds an in-memory image instead (parsers' tests, files built on the fly).
public final class MappedFile: @unchecked Sendable {
  public let path: String
  public let bytes: UnsafeRawBufferPointer
  private let mapped: Bool

  public struct OpenError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
  }

  public init(path: String) throws(OpenError) {
    self.path = path
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw OpenError(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      throw OpenError(path: path, reason: String(cString: strerror(errno)))
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      throw OpenError(path: path, reason: "not a regular file")
    }
    let size = Int(info.st_size)
    mapped = size > 0
    if size == 0 {
      bytes = UnsafeRawBufferPointer(start: nil, count: 0)
      return
    }
    guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
      throw OpenError(path: path, reason: "cannot map: \(String(cString: strerror(errno)))")
    }
    bytes = UnsafeRawBufferPointer(start: base, count: size)
  }

  /// An owned copy of `image`, presented as the file `path`.
  public init(copying image: UnsafeRawBufferPointer, path: String) {
    self.path = path
    mapped = false
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(image.count, 1), alignment: 64)
    if let source = image.baseAddress { copy.baseAddress!.copyMemory(from: source, byteCount: image.count) }
    bytes = UnsafeRawBufferPointer(start: copy.baseAddress, count: image.count)
  }

  deinit {
    guard let base = bytes.baseAddress else { return }
    if mapped {
      munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
    } else {
      UnsafeMutableRawPointer(mutating: base).deallocate()
    }
  }

  public var count: Int { bytes.count }

  /// The first byte (a valid address even for an empty image).
  public var base: UnsafeRawPointer { bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 64)! }
}
