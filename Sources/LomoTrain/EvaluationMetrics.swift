import Foundation

/// SuperGLUE's metrics over predicted and gold choice indices.
public enum Metrics {
  /// Fraction of predictions equal to their label (0 for no items).
  public static func accuracy(predictions: [Int], labels: [Int]) -> Double {
    precondition(predictions.count == labels.count)
    guard !labels.isEmpty else { return 0 }
    return Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
  }

  /// Binary F1 of class `positive`: 2·TP / (2·TP + FP + FN), 0 when there is no positive at all.
  /// Over every MultiRC answer option this is SuperGLUE's F1a.
  public static func f1(predictions: [Int], labels: [Int], positive: Int) -> Double {
    precondition(predictions.count == labels.count)
    var tp = 0, fp = 0, fn = 0
    for (p, l) in zip(predictions, labels) {
      if p == positive && l == positive { tp += 1 }
      else if p == positive { fp += 1 }
      else if l == positive { fn += 1 }
    }
    return tp == 0 ? 0 : Double(2 * tp) / Double(2 * tp + fp + fn)
  }

  /// Unweighted mean of each class's F1 over the classes that occur in labels or predictions
  /// (scikit-learn's `f1_score(average="macro")`, which SuperGLUE uses for CB).
  public static func macroF1(predictions: [Int], labels: [Int]) -> Double {
    let classes = Set(labels).union(predictions).sorted()
    guard !classes.isEmpty else { return 0 }
    return classes.map { f1(predictions: predictions, labels: labels, positive: $0) }.reduce(0, +)
      / Double(classes.count)
  }

  /// Fraction of groups (MultiRC questions) whose every item is predicted right; items without a
  /// group count as their own group.
  public static func exactMatch(predictions: [Int], labels: [Int], groups: [String?]) -> Double {
    precondition(predictions.count == labels.count && labels.count == groups.count)
    var right: [String: Bool] = [:]
    var order: [String] = []
    for (i, g) in groups.enumerated() {
      let key = g.map { "g:" + $0 } ?? "i:\(i)"
      if right[key] == nil { order.append(key) }
      right[key] = (right[key] ?? true) && predictions[i] == labels[i]
    }
    guard !order.isEmpty else { return 0 }
    return Double(order.filter { right[$0]! }.count) / Double(order.count)
  }
}

/// The metrics of one evaluation: accuracy always, and those SuperGLUE defines for the task.
public struct EvaluationMetrics: Codable, Equatable, Sendable {
  public var accuracy: Double
  /// CB: macro-averaged F1.
  public var macroF1: Double?
  /// MultiRC: F1 over all answer options ("Yes" = positive).
  public var f1a: Double?
  /// MultiRC: questions with every option right; ReCoRD: queries answered right.
  public var exactMatch: Double?

  public init(predictions: [Int], labels: [Int], groups: [String?], task: SuperGLUETask?) {
    accuracy = Metrics.accuracy(predictions: predictions, labels: labels)
    switch task {
    case .cb:
      macroF1 = Metrics.macroF1(predictions: predictions, labels: labels)
    case .multirc:
      f1a = Metrics.f1(predictions: predictions, labels: labels, positive: 1)
      exactMatch = Metrics.exactMatch(predictions: predictions, labels: labels, groups: groups)
    case .record:
      exactMatch = accuracy
    default:
      break
    }
  }
}

extension EvaluationMetrics {
  /// A fraction as a percentage with two decimals: 0.615 -> "61.50%".
  public static func percent(_ fraction: Double) -> String { String(format: "%.2f%%", 100 * fraction) }

  /// The metrics beside accuracy that the task has, as they follow it in a line:
  /// ", macro-F1 58.20%", ", F1a …, exact match …", or "".
  public var otherMetricsText: String {
    var text = ""
    if let macroF1 { text += ", macro-F1 \(Self.percent(macroF1))" }
    if let f1a { text += ", F1a \(Self.percent(f1a))" }
    if let exactMatch { text += ", exact match \(Self.percent(exactMatch))" }
    return text
  }
}
