import Foundation

/// The plot of a training run, `OUTPUT/run.svg`: the training loss, the evaluations and the
/// learning rate against steps, in three panels over one step axis, as a self-contained SVG
/// (no script, no external font or file). Each panel is scaled to its data's range, with the
/// range's ends labelled; non-finite values are left out; more than `maxPoints` steps are
/// drawn as the means of equal runs of steps.
public struct RunPlot: Sendable {
  public struct Point: Sendable, Equatable {
    public var step: Int
    public var value: Double
  }

  public static let fileName = "run.svg"
  public static let maxPoints = 2000
  static let width = 720.0, panelHeight = 150.0, left = 72.0, right = 16.0, top = 36.0, gap = 34.0

  public private(set) var losses: [Point] = []
  public private(set) var learningRates: [Point] = []
  public private(set) var evaluations: [Point] = []
  /// What the evaluations are: "eval accuracy" or "eval loss".
  public var evaluationLabel = "evaluation"

  public init() {}

  public mutating func record(_ m: StepMetrics) {
    if m.loss.isFinite { losses.append(Point(step: m.step, value: Double(m.loss))) }
    learningRates.append(Point(step: m.step, value: Double(m.learningRate)))
  }

  /// Records an evaluation's value as the user reads it: accuracy, or the loss (`-score`).
  public mutating func record(_ e: PeriodicEvaluation, isLoss: Bool) {
    let value = isLoss ? -e.score : e.score
    if value.isFinite { evaluations.append(Point(step: e.step, value: value)) }
    evaluationLabel = isLoss ? "eval loss" : "eval accuracy"
  }

  /// `points`, at most `maxPoints` of them: runs of consecutive points replaced by their mean
  /// step and value.
  static func thinned(_ points: [Point]) -> [(Double, Double)] {
    let run = (points.count + maxPoints - 1) / maxPoints
    guard run > 1 else { return points.map { (Double($0.step), $0.value) } }
    return stride(from: 0, to: points.count, by: run).map { start in
      let part = points[start..<min(points.count, start + run)]
      let n = Double(part.count)
      return (part.reduce(0) { $0 + Double($1.step) } / n, part.reduce(0) { $0 + $1.value } / n)
    }
  }

  /// The SVG document, titled `title`.
  public func svg(title: String) -> String {
    let steps = (losses + evaluations + learningRates).map(\.step)
    let first = Double(steps.min() ?? 0), last = Double(max(steps.max() ?? 1, (steps.min() ?? 0) + 1))
    let panels: [(String, [Point], String, Bool)] = [
      ("training loss", losses, "#1f77b4", false),
      (evaluationLabel, evaluations, "#d62728", true),
      ("learning rate", learningRates, "#2ca02c", false),
    ]
    let height = Self.top + Double(panels.count) * (Self.panelHeight + Self.gap) + 8
    var out = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Self.width))" height="\(Int(height))" \
      viewBox="0 0 \(Int(Self.width)) \(Int(height))" font-family="sans-serif" font-size="11">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(Self.left)" y="20" font-size="14">\(Self.escaped(title))</text>

      """
    let plotWidth = Self.width - Self.left - Self.right
    func x(_ step: Double) -> Double { Self.left + (step - first) / (last - first) * plotWidth }
    for (k, (label, points, color, marks)) in panels.enumerated() {
      let y0 = Self.top + Double(k) * (Self.panelHeight + Self.gap) + 14
      out += "<text x=\"\(Self.left)\" y=\"\(Self.number(y0 - 4))\">\(Self.escaped(label))</text>\n"
      out += "<rect x=\"\(Self.left)\" y=\"\(Self.number(y0))\" width=\"\(Self.number(plotWidth))\" height=\"\(Self.panelHeight)\" fill=\"none\" stroke=\"#999\"/>\n"
      guard !points.isEmpty else {
        out += "<text x=\"\(Self.number(Self.left + 8))\" y=\"\(Self.number(y0 + 20))\" fill=\"#666\">none</text>\n"
        continue
      }
      let values = points.map(\.value)
      var low = values.min()!, high = values.max()!
      if high - low < 1e-12 * max(1, abs(high)) { low -= max(abs(low) * 0.05, 1e-9); high += max(abs(high) * 0.05, 1e-9) }
      func y(_ v: Double) -> Double { y0 + Self.panelHeight - (v - low) / (high - low) * Self.panelHeight }
      for v in [low, high] {
        out += "<text x=\"\(Self.number(Self.left - 6))\" y=\"\(Self.number(y(v) + 4))\" text-anchor=\"end\">\(Self.label(v))</text>\n"
      }
      let drawn = Self.thinned(points)
      let coordinates = drawn.map { "\(Self.number(x($0.0))),\(Self.number(y($0.1)))" }.joined(separator: " ")
      out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(coordinates)\"/>\n"
      if marks {
        for (s, v) in drawn { out += "<circle cx=\"\(Self.number(x(s)))\" cy=\"\(Self.number(y(v)))\" r=\"3\" fill=\"\(color)\"/>\n" }
      }
    }
    let axisY = height - 8
    out += "<text x=\"\(Self.left)\" y=\"\(Self.number(axisY))\">step \(Int(first))</text>\n"
    out += "<text x=\"\(Self.number(Self.width - Self.right))\" y=\"\(Self.number(axisY))\" text-anchor=\"end\">step \(Int(last))</text>\n"
    return out + "</svg>\n"
  }

  static func number(_ v: Double) -> String { String(format: "%.1f", v) }
  static func label(_ v: Double) -> String { String(format: "%.4g", v) }
  static func escaped(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }
}
