import ArgumentParser
import LomoCore
import LomoModel
import LomoOptim
import LomoTrain

// The library's option enums read straight from the command line: their raw values are the
// words the options take, listed in each option's help by ArgumentParser.

extension DType: ExpressibleByArgument {
  /// Type names in any case (`--dtype BF16`).
  public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

extension OptimizerKind: ExpressibleByArgument {}
extension LearningRateSchedule.Shape: ExpressibleByArgument {}
extension DataFormat: ExpressibleByArgument {}
extension AssistantTurns: ExpressibleByArgument {}
extension TrainingOutput.Format: ExpressibleByArgument {}
extension ModelExporter.GGUFType: ExpressibleByArgument {
  /// Type names in any case (`--type Q8_0`).
  public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

extension SuperGLUETask: ExpressibleByArgument {
  /// Task names in any case (`--task RTE`).
  public init?(argument: String) { self.init(name: argument) }
}

extension LearningRateSchedule.Warmup: ExpressibleByArgument {
  /// A whole number of steps (`10`) or a ratio of the total steps below 1 (`0.1`).
  public init?(argument: String) {
    if let steps = Int(argument) {
      self = .steps(steps)
    } else if let ratio = Double(argument), ratio < 1 {
      self = .ratio(ratio)
    } else {
      return nil
    }
  }

  public var defaultValueDescription: String {
    switch self {
    case .steps(let n): "\(n)"
    case .ratio(let r): "\(r)"
    }
  }
}
