import Foundation

extension TrainingOutput {
  /// `OUTPUT/checkpoint-STEP`: an earlier periodic checkpoint kept by `rotateCheckpoints`.
  public func checkpoint(ofStep step: Int) -> URL { directory.appendingPathComponent("checkpoint-\(step)") }

  /// The steps of the `checkpoint-STEP` folders in the output folder, oldest first.
  public func keptCheckpointSteps() -> [Int] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.compactMap { name in
      name.hasPrefix("checkpoint-") ? Int(name.dropFirst("checkpoint-".count)) : nil
    }.sorted()
  }

  /// Before a periodic checkpoint replaces `OUTPUT/checkpoint`: with `keeping` k > 1, the one
  /// there is renamed `checkpoint-STEP` (its step from its state.json) and only the newest
  /// k - 1 of those stay, so that with the new one k checkpoints are kept. Nothing with
  /// k = 1 (the new checkpoint replaces the old). One process's checkpoints only.
  public func rotateCheckpoints(keeping: Int) throws {
    guard keeping > 1, FileManager.default.fileExists(atPath: checkpoint.path) else { return }
    let step = try ResumeCheckpoint.loadState(from: checkpoint).step
    let kept = checkpoint(ofStep: step)
    try? FileManager.default.removeItem(at: kept)
    try FileManager.default.moveItem(at: checkpoint, to: kept)
    for old in keptCheckpointSteps().dropLast(keeping - 1) {
      try FileManager.default.removeItem(at: checkpoint(ofStep: old))
    }
  }
}
