import Dispatch
import Foundation
import LomoCore
import Synchronization

/// The transformer blocks of a model whose weights live in a `LayerFile` (models larger than
/// memory): at most `residentLayers` layers are in memory at once, the rest on disk. The model
/// asks for a layer before it runs (`use`), and for the next one ahead of time (`prefetch`),
/// which a background I/O thread reads while this layer computes. When a layer must make room,
/// the least recently used one is written back (if it changed) and dropped from memory and
/// from the page cache, so the memory held by weights stays within the budget and every read
/// comes from the disk.
///
/// Accounting: each resident layer is registered in the ledger under `.parameters` while it
/// is in memory. Not thread-safe: one model (or one whole-model pass) at a time, on one thread;
/// only the I/O runs elsewhere, in the order it was asked for.
public final class StreamedLayers: @unchecked Sendable {
  /// Where the weights stream from and to.
  public var folder: String { file.folder }
  /// Bytes of the file (every layer's weights, page-aligned).
  public var fileBytes: Int { file.byteCount }
  /// Bytes of one layer in memory.
  public let layerBytes: Int

  /// Whether `folder` is on a file system in memory (tmpfs, ramfs), which streaming refuses.
  public static func isInMemory(_ folder: String) -> Bool { LayerFile.isInMemory(folder) }

  /// Bytes of one layer of `config` in `dtype` in memory (its tensors page-aligned).
  public static func layerBytes(config: LlamaConfig, dtype: DType) -> Int {
    LayerFile.layout(config: config, dtype: dtype).layers.first?.count ?? 0
  }
  /// How many layers may be in memory at once (at least 1; 2 or more lets the next layer
  /// load while this one computes).
  public var residentLayers: Int {
    didSet { residentLayers = max(1, residentLayers) }
  }

  /// What streaming has cost so far.
  public struct Statistics: Sendable, Equatable {
    /// Layer bytes read from the file and written back to it.
    public var bytesRead = 0, bytesWritten = 0
    /// Seconds the model waited for a layer that was not in memory yet.
    public var waitSeconds = 0.0
  }
  public private(set) var statistics = Statistics()

  let file: LayerFile
  private let ledger: MemoryLedger
  private let io = DispatchQueue(label: "lomo.streamed-layers")
  /// The first read the disk refused, set on the I/O thread.
  private let failure = FirstFailure()
  private enum Residency { case onDisk, loading(DispatchWorkItem), resident }
  private var residency: [Residency]
  /// Whether a resident layer may have changed since it was read.
  private var dirty: [Bool]
  /// When each layer was last used or prefetched (a tick count).
  private var lastUse: [Int]
  private var tick = 0
  /// The layer in use now, which a prefetch never evicts.
  private var current: Int?

  /// A new, zero-filled file for `config`'s layers in `folder`, with `residentLayers` layers
  /// in memory at most.
  public init(config: LlamaConfig, dtype: DType, folder: String, residentLayers: Int = 2,
              ledger: MemoryLedger = .shared) throws(LayerFileError) {
    file = try LayerFile(config: config, dtype: dtype, folder: folder)
    layerBytes = file.layerRanges.first?.count ?? 0
    self.residentLayers = max(1, residentLayers)
    self.ledger = ledger
    residency = Array(repeating: .onDisk, count: config.layers)
    dirty = Array(repeating: false, count: config.layers)
    lastUse = Array(repeating: 0, count: config.layers)
  }

  deinit {
    io.sync {}
    let held = residency.filter { if case .onDisk = $0 { false } else { true } }.count
    ledger.release(held * layerBytes, as: .parameters)
  }

  /// The storage of layer `l`'s tensor `p` inside the file.
  func storage(layer l: Int, _ p: ParameterID.LayerParameter, count: Int, dtype: DType) -> ParameterTensor.Storage {
    file.storage(layer: l, p, count: count, dtype: dtype)
  }

  /// Makes layer `l` resident (waiting for its read) before it is used; `writing` when the
  /// caller will change it. Evicts the least recently used layer when the budget is full.
  public func use(_ l: Int, writing: Bool) {
    tick += 1
    switch residency[l] {
    case .resident: break
    case .loading(let read):
      wait(for: read)
      residency[l] = .resident
    case .onDisk:
      current = nil
      wait(for: startLoading(l, writing: writing))
      residency[l] = .resident
    }
    if writing { dirty[l] = true }
    lastUse[l] = tick
    current = l
  }

  /// Starts reading layer `l` in the background when it is on disk and there is room (a
  /// layer other than the one in use can be evicted). No-op outside 0..<layers.
  public func prefetch(_ l: Int, writing: Bool) {
    guard l >= 0 && l < residency.count, case .onDisk = residency[l], residentLayers >= 2 else { return }
    tick += 1
    guard startLoading(l, writing: writing, keeping: current) != nil else { return }
    lastUse[l] = tick
    if writing { dirty[l] = true }
  }

  // MARK: Residency

  private func wait(for read: DispatchWorkItem?) {
    guard let read else { return }
    let start = DispatchTime.now().uptimeNanoseconds
    read.wait()
    statistics.waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    // A read the disk refused would fault (SIGBUS) at the first touch: stop with its reason.
    if let reason = failure.reason {
      fatalError("reading the streamed weights in \(folder) failed (\(reason)); the disk is failing: resume from the last checkpoint on another disk (--stream-dir)")
    }
  }

  /// Queues the read of layer `l` after the evictions that make room for it, or returns nil
  /// (nothing queued) when no layer but `l` and `keeping` could be evicted.
  @discardableResult
  private func startLoading(_ l: Int, writing: Bool, keeping: Int? = nil) -> DispatchWorkItem? {
    var victims: [Int] = []
    var held = residency.indices.filter { if case .onDisk = residency[$0] { false } else { true } }
    while held.count >= residentLayers {
      guard let victim = held.filter({ $0 != keeping }).min(by: { lastUse[$0] < lastUse[$1] }) else { return nil }
      victims.append(victim)
      held.removeAll { $0 == victim }
    }
    for v in victims { evict(v) }
    let read = DispatchWorkItem { [file, failure] in
      if let reason = file.load(l, writing: writing) { failure.record("layer \(l): \(reason)") }
    }
    io.async(execute: read)
    residency[l] = .loading(read)
    ledger.allocate(layerBytes, as: .parameters)
    statistics.bytesRead += layerBytes
    return read
  }

  private func evict(_ v: Int) {
    io.async { [file] in file.evict(v) }
    if dirty[v] { statistics.bytesWritten += layerBytes }
    residency[v] = .onDisk
    dirty[v] = false
    ledger.release(layerBytes, as: .parameters)
  }
}

/// The first failure reported from another thread.
private final class FirstFailure: Sendable {
  private let first = Mutex<String?>(nil)
  func record(_ reason: String) { first.withLock { $0 = $0 ?? reason } }
  var reason: String? { first.withLock { $0 } }
}
