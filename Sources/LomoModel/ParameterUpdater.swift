/// Receives each parameter's gradient the moment backward has finished it: after every read of
/// the parameter in this step, so the updater may change the parameter at once (LOMO's fused
/// update). Called exactly once per parameter per backward pass, the tied embedding/LM head
/// once with the sum of both contributions.
public protocol ParameterUpdater: AnyObject {
  /// - Parameters:
  ///   - parameter: the tensor, in its storage dtype.
  ///   - gradient: f32 [parameter.count], ∂(gradScale · loss)/∂parameter. Scratch that
  ///     backward reuses right after the call: the updater may modify it in place but must
  ///     copy what it keeps.
  func update(_ parameter: ParameterTensor, gradient: UnsafeMutablePointer<Float>)
  /// Whether `update` may change the parameter (false for one that only measures); a sharded
  /// model gathers a changed tensor again before its next use.
  var changesParameters: Bool { get }
  /// Whether this updater takes an untied [V, C] gradient in row slices
  /// (`update(_:slices:)`), so that backward never holds it whole.
  var acceptsRowSlices: Bool { get }
  /// The gradient of `parameter` (a matrix) in row slices instead of `update(_:gradient:)`:
  /// the updater asks `slices.produce` for the slices it needs, as often as it needs them.
  /// Only called when `acceptsRowSlices`.
  func update(_ parameter: ParameterTensor, slices: RowSlicedGradient)
}

extension ParameterUpdater {
  public var changesParameters: Bool { true }
  public var acceptsRowSlices: Bool { false }
  public func update(_ parameter: ParameterTensor, slices: RowSlicedGradient) {
    preconditionFailure("\(type(of: self)) does not take gradients in row slices")
  }
}

/// A matrix's gradient produced one slice of rows at a time: `produce(k)` writes the gradient
/// of rows `slices[k]` (f32 [slices[k].count, columns]) into `buffer`, overwriting it.
///
/// The contract with the producer (backward): every slice is produced at least once, and the
/// first production of a slice comes before the updater changes those rows (it also finishes
/// backward's other outputs, e.g. ∂L/∂hidden of the LM head). Slices may be produced again,
/// in any order (an optimizer that needs statistics over the whole tensor first); each start
/// is a multiple of `UpdateKernel`'s 4096-element block, so slice-wise updates draw the same
/// stochastic-rounding streams as a whole-tensor update.
public struct RowSlicedGradient {
  /// Consecutive row ranges covering the whole matrix, in order.
  public let slices: [Range<Int>]
  public let columns: Int
  /// Where `produce` writes. [max slice rows · columns]
  public let buffer: UnsafeMutablePointer<Float>
  private let body: (Int, Bool) -> Void
  private let produced: ProducedSlices

  /// Slices of `sliceRows` rows (a multiple of `rowUnit(columns:)`) of a [rows, columns]
  /// matrix; `body(k, rows, first)` writes the gradient of slice k, `rows`, into `buffer`
  /// (`first`: the first time slice k is produced).
  public init(rows: Int, columns: Int, sliceRows: Int, buffer: UnsafeMutablePointer<Float>,
              body: @escaping (_ slice: Int, _ rows: Range<Int>, _ first: Bool) -> Void) {
    precondition(sliceRows > 0 && sliceRows % Self.rowUnit(columns: columns) == 0,
                 "\(sliceRows) rows of \(columns) columns are not whole 4096-element blocks")
    let slices = stride(from: 0, to: rows, by: sliceRows).map { $0..<min(rows, $0 + sliceRows) }
    self.slices = slices
    self.columns = columns
    self.buffer = buffer
    self.body = { k, first in body(k, slices[k], first) }
    produced = ProducedSlices(count: slices.count)
  }

  /// Writes slice `k`'s gradient into `buffer`.
  public func produce(_ k: Int) {
    body(k, produced.markFirst(k))
  }

  /// Whether every slice was produced at least once (the producer's side of the contract).
  public var isComplete: Bool { produced.all }

  /// The default rows per slice of a matrix with `columns`: about 8 Mi elements (32 MiB of
  /// f32), a multiple of `rowUnit(columns:)`.
  public static func defaultSliceRows(columns: Int) -> Int {
    let unit = rowUnit(columns: columns)
    return max(unit, (8 << 20) / max(columns, 1) / unit * unit)
  }

  /// The fewest rows of `columns` that make whole 4096-element blocks.
  public static func rowUnit(columns: Int) -> Int { 4096 / gcd(4096, max(columns, 1)) }

  private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}

/// Which slices have been produced (a reference, so copies of the gradient share it).
private final class ProducedSlices {
  private var seen: [Bool]
  init(count: Int) { seen = Array(repeating: false, count: count) }
  /// Marks slice `k` produced; whether it was the first time.
  func markFirst(_ k: Int) -> Bool {
    defer { seen[k] = true }
    return !seen[k]
  }
  var all: Bool { !seen.contains(false) }
}
