import Foundation
import LomoTrain

/// Keeps the trained weights when a model folder cannot be written (a full disk, an output
/// folder that became unwritable, a source model that disappeared): a resumable checkpoint in
/// the output folder, or, when that cannot be written either, in the temporary folder.
struct CheckpointRescue {
  let trainer: Trainer
  let output: TrainingOutput

  /// Where a rescue checkpoint is tried, in order. Over several ranks every rank must write
  /// to the same place: the output folder only.
  var places: [URL] {
    guard !trainer.model.parameters.isSharded else { return [output.checkpoint] }
    return [output.checkpoint,
            FileManager.default.temporaryDirectory.appendingPathComponent("lomo-checkpoint-\(getpid())")]
  }

  /// Writes the checkpoint to the first place that takes it: that place (nil when none did)
  /// and the errors of the places that failed.
  func save() -> (place: URL?, failures: [String]) {
    var failures: [String] = []
    for place in places {
      do {
        try trainer.saveCheckpoint(to: place, overwrite: true)
        return (place, failures)
      } catch {
        failures.append("\(error)")
      }
    }
    return (nil, failures)
  }

  /// `save()`, or a `CommandError` of `lead` followed by every place's failure when none took
  /// the checkpoint.
  func saveOrThrow(_ lead: String) throws -> (place: URL, failures: [String]) {
    let (place, failures) = save()
    guard let place else { throw CommandError(lead + failures.joined(separator: "\n")) }
    return (place, failures)
  }

  /// The error of a failed save of `what` (`error`), after trying to keep the weights in a
  /// checkpoint: where they are and how to finish, or that nothing could be written.
  func failure(saving what: String, _ error: Error) -> CommandError {
    let (place, failures) = save()
    if let place {
      let tried = failures.map { "(tried first: \($0))\n" }.joined()
      return CommandError("""
        \(what) could not be saved: \(error)
        \(tried)        the trained weights (step \(trainer.step)/\(trainer.totalSteps)) are kept in the resumable checkpoint \(place.path)
        once the cause is fixed, run the same command plus: --resume \(place.path)
        """)
    }
    return CommandError("""
      \(what) could not be saved: \(error)
      and no checkpoint could be written either, the trained weights are lost:
      \(failures.map { "  " + $0 }.joined(separator: "\n"))
      free space on the disk (or make the output folder writable) before training again
      """)
  }
}
