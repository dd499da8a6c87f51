import LomoCore

/// What a finished (or interrupted) `Trainer.run` did.
public struct TrainingSummary: Sendable, Equatable {
  /// Steps completed in total (including those before a resume).
  public var steps: Int
  public var totalSteps: Int
  /// Wall seconds of training (including those before a resume; evaluation excluded).
  public var seconds: Double
  /// Non-padding tokens trained on.
  public var tokens: Int
  public var tokensPerSecond: Double
  /// Peak resident set size of the process (VmHWM), 0 where unknown.
  public var peakRSSBytes: Int
  /// The ledger's peak bytes per category, and the peak of their sum, during this run.
  public var peakMemory: [MemoryCategory: Int]
  public var peakLedgerBytes: Int
  /// Loss of the last step.
  public var finalLoss: Float?
  public var bestScore: Double?
  /// The run stopped early (`shouldStop` or `stopAfter`); a checkpoint resumes it.
  public var interrupted: Bool
}
