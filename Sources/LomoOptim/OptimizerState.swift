import LomoCore

/// Named f32 arrays and integers that restore an optimizer exactly (for training checkpoints):
/// what `StepOptimizer.state()` returns and `restore(_:)` takes. Each optimizer documents its
/// names; every one saves its rounding generator as `generator.0` ... `generator.3`.
public struct OptimizerState: Sendable, Equatable, Codable {
  public var arrays: [String: [Float]]
  public var integers: [String: UInt64]

  public init(arrays: [String: [Float]] = [:], integers: [String: UInt64] = [:]) {
    self.arrays = arrays
    self.integers = integers
  }
}

/// A state that does not fit the optimizer it is restored into.
public struct OptimizerStateError: Error, CustomStringConvertible, Equatable {
  public let problem: String
  public init(_ problem: String) { self.problem = problem }
  public var description: String { "optimizer state: \(problem)" }
}

extension OptimizerState {
  /// The integer names of the rounding generator's four words.
  static let generatorNames = (0..<4).map { "generator.\($0)" }

  /// The state of an optimizer: copies of `named` arrays, the step count `step` (when the
  /// optimizer counts steps) and the rounding generator.
  init(arrays named: [(String, AlignedBuffer<Float>)] = [], step: Int? = nil,
       generator: Xoshiro256) {
    self.init()
    for (name, buffer) in named { arrays[name] = buffer.array }
    if let step { integers["step"] = UInt64(step) }
    let words = [generator.state.0, generator.state.1, generator.state.2, generator.state.3]
    for (name, word) in zip(Self.generatorNames, words) { integers[name] = word }
  }

  /// The generator of a state written without arrays and step; throws if it holds more.
  func generatorOnly() throws -> Xoshiro256 {
    try check(arrays: [], integers: Self.generatorNames)
    return storedGenerator
  }

  /// Copies the arrays of a state written with `named` and a step into those buffers and
  /// returns the step and the generator; throws (having written nothing) if it does not fit.
  func load(arrays named: [(String, AlignedBuffer<Float>)]) throws
    -> (step: Int, generator: Xoshiro256)
  {
    try check(arrays: named, integers: ["step"] + Self.generatorNames)
    for (name, buffer) in named { _ = buffer.buffer.update(fromContentsOf: arrays[name]!) }
    return (Int(integers["step"]!), storedGenerator)
  }

  /// The generator (after `check` found its words).
  private var storedGenerator: Xoshiro256 {
    let w = Self.generatorNames.map { integers[$0]! }
    var rng = Xoshiro256(seed: 0)
    rng.state = (w[0], w[1], w[2], w[3])
    return rng
  }

  /// Throws unless this state holds exactly the named arrays, each with its buffer's count, and
  /// the named integers: the first missing, mis-sized or unexpected name is reported.
  private func check(arrays named: [(String, AlignedBuffer<Float>)], integers names: [String])
    throws
  {
    for name in names where integers[name] == nil { throw OptimizerStateError("missing '\(name)'") }
    for (name, buffer) in named {
      guard let values = arrays[name] else { throw OptimizerStateError("missing '\(name)'") }
      guard values.count == buffer.count else {
        throw OptimizerStateError("'\(name)' has \(values.count) values, expected \(buffer.count)")
      }
    }
    let expected = Set(names), expectedArrays = Set(named.map(\.0))
    let extra = integers.keys.sorted().first { !expected.contains($0) }
      ?? arrays.keys.sorted().first { !expectedArrays.contains($0) }
    if let extra { throw OptimizerStateError("unexpected '\(extra)' (a state of another optimizer?)") }
  }
}
