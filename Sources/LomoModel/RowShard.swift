/// The part of a tensor one rank of N holds under ZeRO-3 sharding: whole rows (the first
/// dimension; a vector's elements), split as evenly as possible in rank order, the first
/// m mod N ranks holding one row more. A shard is one contiguous range of the whole tensor's
/// row-major elements, so the shards in rank order are the tensor, and a row's statistics
/// (AdaLomo's row factors) lie on one rank.
public struct RowShard: Sendable, Equatable, CustomStringConvertible {
  /// The whole tensor's shape.
  public let fullShape: [Int]
  public let rank: Int
  public let ranks: Int

  /// - Precondition: 0 ≤ rank < ranks, a non-empty shape.
  public init(fullShape: [Int], rank: Int, ranks: Int) {
    precondition(ranks >= 1 && rank >= 0 && rank < ranks, "rank \(rank) of \(ranks)")
    precondition(!fullShape.isEmpty, "a shard of a scalar")
    self.fullShape = fullShape
    self.rank = rank
    self.ranks = ranks
  }

  /// The whole tensor, held by a world of one.
  public static func whole(_ shape: [Int]) -> RowShard { RowShard(fullShape: shape, rank: 0, ranks: 1) }

  /// Whether this rank holds the whole tensor.
  public var isWhole: Bool { ranks == 1 }

  /// Elements of the whole tensor.
  public var fullCount: Int { fullShape.reduce(1, *) }

  /// Rows of the whole tensor (its first dimension).
  public var fullRows: Int { fullShape[0] }

  /// Elements per row.
  public var rowLength: Int { fullShape.dropFirst().reduce(1, *) }

  /// The rows rank `r` holds.
  public func rows(ofRank r: Int) -> Range<Int> {
    let base = fullRows / ranks, extra = fullRows % ranks
    let start = r * base + min(r, extra)
    return start..<(start + base + (r < extra ? 1 : 0))
  }

  /// The rows this rank holds.
  public var rows: Range<Int> { rows(ofRank: rank) }

  /// This rank's range of the whole tensor's row-major elements.
  public var elements: Range<Int> { rows.lowerBound * rowLength..<rows.upperBound * rowLength }

  /// The shape of this rank's part: [rows.count] followed by the row's dimensions.
  public var shape: [Int] { [rows.count] + fullShape.dropFirst() }

  /// Elements every rank holds, in rank order (the part counts of the collectives).
  public var counts: [Int] { (0..<ranks).map { rows(ofRank: $0).count * rowLength } }

  public var description: String {
    isWhole ? "\(fullShape)" : "rows \(rows) of \(fullShape) (rank \(rank) of \(ranks))"
  }
}
