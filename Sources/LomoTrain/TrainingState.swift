import LomoCore
import LomoOptim

/// Where a run is, exactly enough to continue it bit-identically (with the parameters, which
/// `ResumeCheckpoint` stores beside this as raw tensors).
public struct TrainingState: Sendable, Equatable, Codable {
  /// Format version of the resume directory.
  public var version = 1
  /// Steps completed.
  public var step: Int
  /// The epoch in progress (0-based).
  public var epoch: Int
  /// Batches of `epoch`'s order already run.
  public var position: Int
  /// Seed of the data order (epoch e uses seed + e).
  public var dataSeed: UInt64
  public var options: TrainingOptions
  /// Scalars of the optimizer state (step counts, rounding generator words); its arrays are
  /// stored as tensors named `optimizer/<name>`.
  public var optimizerIntegers: [String: UInt64]
  public var lossScaler: DynamicLossScaler?
  public var bestScore: Double?
  /// The step of the best evaluation (nil in checkpoints written before it was recorded).
  public var bestStep: Int?
  /// Number of training examples and a hash of their lengths, to refuse resuming on other data.
  public var exampleCount: Int
  public var dataFingerprint: UInt64
  /// Seconds trained before this checkpoint (for the final summary).
  public var elapsedSeconds: Double
  public var tokensSeen: Int

  public init(step: Int, epoch: Int, position: Int, dataSeed: UInt64, options: TrainingOptions,
              optimizerIntegers: [String: UInt64], lossScaler: DynamicLossScaler?,
              bestScore: Double?, bestStep: Int?, exampleCount: Int, dataFingerprint: UInt64,
              elapsedSeconds: Double, tokensSeen: Int) {
    self.step = step
    self.epoch = epoch
    self.position = position
    self.dataSeed = dataSeed
    self.options = options
    self.optimizerIntegers = optimizerIntegers
    self.lossScaler = lossScaler
    self.bestScore = bestScore
    self.bestStep = bestStep
    self.exampleCount = exampleCount
    self.dataFingerprint = dataFingerprint
    self.elapsedSeconds = elapsedSeconds
    self.tokensSeen = tokensSeen
  }

  /// FNV-1a over the examples' token counts and tokens.
  public static func fingerprint(_ examples: [TokenizedExample]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix(_ v: UInt64) {
      h ^= v
      h = h &* 0x100_0000_01b3
    }
    for e in examples {
      mix(UInt64(e.tokens.count))
      for t in e.tokens { mix(UInt64(UInt32(bitPattern: t))) }
      for t in e.targets { mix(UInt64(UInt32(bitPattern: t))) }
    }
    return h
  }
}
