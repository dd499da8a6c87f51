#if canImport(Glibc)
  import Glibc
#endif
import Foundation
import LomoCore

/// Why the layer weights cannot be streamed through a file in `folder`.
public struct LayerFileError: Error, CustomStringConvertible {
  public let folder: String
  public let problem: String
  public var description: String { "streamed weights in \(folder): \(problem)" }
}

/// The transformer blocks' weights of one model in one file, in the storage dtype, mapped
/// shared into memory: the tensors' storage is the mapping, so the kernel reads a page from
/// the file when it is first touched and writes it back when it changed. `StreamedLayers`
/// decides which layers are in memory; this type does the I/O of one layer at a time.
///
/// Layout: layer after layer, each layer's nine tensors in `ParameterID.LayerParameter`
/// order, every tensor starting on a page boundary (so each layer is a whole range of pages).
/// The file is created in `folder`, its blocks reserved with `posix_fallocate` (a full disk is
/// an error now, never a fault at a later write) and unlinked at once: it holds working
/// copies only, and disappears when the process ends, however it ends.
final class LayerFile: @unchecked Sendable {
  let folder: String
  let byteCount: Int
  /// Byte range of each layer in the file. [layers]
  let layerRanges: [Range<Int>]
  /// File offset of each tensor, [layer][`LayerParameter` order].
  private let offsets: [[Int]]
  private let descriptor: Int32
  private let base: UnsafeMutableRawPointer

  static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

  /// Where each tensor and each layer lies in the file: every tensor starts on a page.
  static func layout(config: LlamaConfig, dtype: DType) -> (offsets: [[Int]], layers: [Range<Int>]) {
    let page = pageSize
    var offsets: [[Int]] = [], layers: [Range<Int>] = []
    var end = 0
    for l in 0..<config.layers {
      let start = end
      offsets.append(ParameterID.LayerParameter.allCases.map { p in
        guard ParameterID.LayerParameter.present(in: config).contains(p) else { return end }
        defer { end += (ParameterID.layer(l, p).count(in: config) * dtype.byteSize + page - 1) / page * page }
        return end
      })
      layers.append(start..<end)
    }
    return (offsets, layers)
  }

  init(config: LlamaConfig, dtype: DType, folder: String) throws(LayerFileError) {
    self.folder = folder
    func fail(_ problem: String) -> LayerFileError { LayerFileError(folder: folder, problem: problem) }
    let layout = Self.layout(config: config, dtype: dtype)
    offsets = layout.offsets
    layerRanges = layout.layers
    byteCount = layout.layers.last?.upperBound ?? 0
    let end = byteCount

    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
      throw fail("no such folder; create it or name another with --stream-dir")
    }
    if Self.isInMemory(folder) {
      throw fail("it is in memory (tmpfs or ramfs), so the streamed weights would take RAM; name a folder on a disk with --stream-dir")
    }
    var template = Array((folder as NSString).appendingPathComponent(".lomo-streamed-layers-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { throw fail("cannot create a file there: \(String(cString: strerror(errno)))") }
    unlink(String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
    let reserved = posix_fallocate(fd, 0, off_t(max(end, 1)))
    guard reserved == 0 else {
      close(fd)
      let free = Self.freeBytes(folder).map { ", \(Format.bytes($0)) are free there" } ?? ""
      throw fail("cannot reserve \(Format.bytes(end)) on its disk (\(String(cString: strerror(reserved)))\(free)); free space or name a folder on a larger disk with --stream-dir")
    }
    guard let mapping = mmap(nil, max(end, 1), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapping != MAP_FAILED else {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw fail("cannot map \(Format.bytes(end)): \(reason)")
    }
    descriptor = fd
    base = mapping
  }

  deinit {
    munmap(base, max(byteCount, 1))
    close(descriptor)
  }

  /// The storage of tensor `p` of layer `l` (`count` elements of `dtype`): a view of the mapping.
  func storage(layer l: Int, _ p: ParameterID.LayerParameter, count: Int, dtype: DType) -> ParameterTensor.Storage {
    let at = base + offsets[l][ParameterID.LayerParameter.allCases.firstIndex(of: p)!]
    switch dtype {
    case .f32: return .f32(AlignedBuffer(viewing: at.assumingMemoryBound(to: Float.self), count: count,
                                         category: .parameters, owner: self))
    case .bf16: return .bf16(AlignedBuffer(viewing: at.assumingMemoryBound(to: BFloat16.self), count: count,
                                           category: .parameters, owner: self))
    case .f16: return .f16(AlignedBuffer(viewing: at.assumingMemoryBound(to: Float16.self), count: count,
                                         category: .parameters, owner: self))
    }
  }

  // MARK: One layer's I/O (blocking; `StreamedLayers` runs it on its I/O thread)

  /// Maps every page of layer `l`, reading from the file what is not in the page cache;
  /// `writing` maps them writable (dirty), so updating the layer takes no page faults.
  /// Returns why the read failed (the disk's error), nil when it did not.
  func load(_ l: Int, writing: Bool) -> String? {
    // MADV_POPULATE_READ / _WRITE (Linux 5.14). On an older kernel this fails with EINVAL and
    // the pages load on first touch instead: slower, the same values.
    guard madvise(base + layerRanges[l].lowerBound, layerRanges[l].count, writing ? 23 : 22) != 0,
          errno != EINVAL else { return nil }
    return String(cString: strerror(errno))
  }

  /// Writes layer `l`'s changed pages to the file and waits for them, then drops the layer
  /// from the process and from the page cache, so the next `load` reads the file.
  func evict(_ l: Int) {
    let range = layerRanges[l], start = base + range.lowerBound
    // A failed write of a reserved file is a failing disk; the pages then stay dirty in the
    // page cache, and dropping them below is refused by the kernel, so no value is lost.
    _ = msync(start, range.count, MS_SYNC)
    _ = madvise(start, range.count, MADV_DONTNEED)
    _ = posix_fadvise(descriptor, off_t(range.lowerBound), off_t(range.count), POSIX_FADV_DONTNEED)
  }

  /// Whether `folder` is on a file system that lives in memory (tmpfs, ramfs): its longest
  /// mount point in /proc/mounts says (false where that cannot be read).
  static func isInMemory(_ folder: String) -> Bool {
    guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return false }
    let path = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
    var best: (point: String, type: Substring)?
    for line in mounts.split(separator: "\n") {
      let fields = line.split(separator: " ")
      guard fields.count >= 3 else { continue }
      // Mount points escape spaces as \040.
      let point = fields[1].replacingOccurrences(of: "\\040", with: " ")
      let inside = point == "/" || path == point || path.hasPrefix(point + "/")
      if inside && point.count >= (best?.point.count ?? -1) { best = (point, fields[2]) }
    }
    return best.map { $0.type == "tmpfs" || $0.type == "ramfs" } ?? false
  }

  static func freeBytes(_ folder: String) -> Int? {
    var info = statvfs()
    guard statvfs(folder, &info) == 0 else { return nil }
    return Int(info.f_bavail) * Int(info.f_frsize)
  }
}
