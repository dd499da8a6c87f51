/// Central finite differences of a scalar function: ∂f/∂x[i] ≈ (f(x + h e_i) - f(x - h e_i)) / 2h.
///
/// Use with Double reference kernels and h around 1e-6: the truncation error is O(h²) and the
/// rounding error O(ε/h), both near 1e-10 relative.
public func numericGradient(of f: ([Double]) -> Double, at x: [Double], step h: Double = 1e-6)
  -> [Double]
{
  var x = x
  var grad = [Double](repeating: 0, count: x.count)
  for i in x.indices {
    let saved = x[i]
    x[i] = saved + h
    let plus = f(x)
    x[i] = saved - h
    let minus = f(x)
    x[i] = saved
    grad[i] = (plus - minus) / (2 * h)
  }
  return grad
}

/// Σ a[i]·b[i], used to turn a vector output into the scalar loss `L = Σ out·probe` whose
/// gradient with respect to `out` is `probe`.
public func dot(_ a: [Double], _ b: [Double]) -> Double {
  precondition(a.count == b.count)
  return zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
}
