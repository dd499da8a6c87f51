import LomoCore

/// Reproducible test inputs: uniform values in `range` from a seeded generator.
public func randomArray(_ count: Int, seed: UInt64, in range: ClosedRange<Double> = -1...1)
  -> [Double]
{
  var rng = Xoshiro256(seed: seed)
  return (0..<count).map { _ in Double.random(in: range, using: &rng) }
}

public extension Array where Element == Double {
  var floats: [Float] { map { Float($0) } }
}

public extension Array where Element == Float {
  var doubles: [Double] { map { Double($0) } }
}
