import Foundation
import LomoCore
import LomoModel

/// How far apart the weights of two models of the same architecture are: for every tensor the
/// largest absolute difference divided by the larger of the two tensors' largest magnitudes
/// (0 for identical tensors), compared in f32.
struct ModelComparison {
  let differences: [(tensor: String, difference: Double)]

  init(_ a: ModelSource, _ b: ModelSource) throws {
    let x = try a.loadParameters(dtype: .f32), y = try b.loadParameters(dtype: .f32)
    func shapes(_ p: LlamaParameters) -> [[Int]] { p.all.map(\.shape) }
    guard shapes(x) == shapes(y) else {
      throw CommandError("\(a.path) and \(b.path) are models of different shapes; only the same architecture compares")
    }
    differences = zip(x.all, y.all).map { p, q in
      let u = p.floats, v = q.floats
      var largest: Float = 0, worst: Float = 0
      for i in u.indices {
        let difference = abs(u[i] - v[i])
        // A NaN (which max() would skip) or an inf anywhere makes the comparison fail.
        guard difference.isFinite else { return ("\(p.id)", .infinity) }
        largest = max(largest, abs(u[i]), abs(v[i]))
        worst = max(worst, difference)
      }
      return ("\(p.id)", largest > 0 ? Double(worst / largest) : 0)
    }
  }

  /// The tensor that differs most.
  var worst: (tensor: String, difference: Double) {
    differences.max { $0.difference < $1.difference } ?? ("", 0)
  }

  /// One line per tensor that differs, then the largest difference.
  var report: String {
    let differing = differences.filter { $0.difference > 0 }
    var lines = differing.map { "  \(TextTable.pad($0.tensor, to: 48))  \(String(format: "%.3g", $0.difference))" }
    lines.insert("\(differing.count) of \(differences.count) tensors differ", at: 0)
    lines.append("largest relative difference \(String(format: "%.3g", worst.difference)) (\(worst.tensor.isEmpty ? "none" : worst.tensor))")
    return lines.joined(separator: "\n")
  }
}
