/// Elementwise comparison `|actual - expected| <= atol + rtol * |expected|`.
///
/// Returns nil when every element passes, else a message naming the worst element (largest
/// excess over its tolerance), so a test writes `XCTAssertNil(allClose(...))`.
public func allClose<A: BinaryFloatingPoint, E: BinaryFloatingPoint>(
  _ actual: some Collection<A>, _ expected: some Collection<E>,
  atol: Double, rtol: Double, _ what: String = ""
) -> String? {
  guard actual.count == expected.count else {
    return "\(what): \(actual.count) values, expected \(expected.count)"
  }
  var worst: (index: Int, excess: Double, a: Double, e: Double)?
  var failures = 0
  for (i, (a, e)) in zip(actual, expected).enumerated() {
    let a = Double(a), e = Double(e)
    let excess = a.isNaN != e.isNaN ? .infinity : (a == e ? 0 : abs(a - e) - (atol + rtol * abs(e)))
    if excess > 0 || excess.isNaN {
      failures += 1
      if worst == nil || excess > worst!.excess { worst = (i, excess, a, e) }
    }
  }
  guard let worst else { return nil }
  return "\(what): \(failures) of \(actual.count) values differ; worst at index \(worst.index): "
    + "\(worst.a) vs expected \(worst.e) (atol \(atol), rtol \(rtol))"
}

/// Largest |a - b| over two equally long collections.
public func maxAbsDifference<A: BinaryFloatingPoint, E: BinaryFloatingPoint>(
  _ a: some Collection<A>, _ b: some Collection<E>
) -> Double {
  precondition(a.count == b.count, "length mismatch \(a.count) vs \(b.count)")
  return zip(a, b).reduce(0) { max($0, abs(Double($1.0) - Double($1.1))) }
}

/// Keeps objects alive up to this call. A buffer whose only use is reading its `pointer` may
/// otherwise be freed right after that read, before the kernel that uses the pointer runs:
/// Swift ends an object's lifetime at its last use, not at the end of its scope.
public func keepAlive(_ objects: AnyObject...) {
  withExtendedLifetime(objects) {}
}
