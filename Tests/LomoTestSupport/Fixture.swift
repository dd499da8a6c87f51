import Foundation

/// A golden fixture written by `scripts/make_kernel_fixtures.py`: named f32 tensors (shape and
/// flat row-major data) and scalar configuration values, as JSON.
public struct Fixture: Decodable {
  public struct Tensor: Decodable {
    public let shape: [Int]
    public let data: [Float]
  }

  public let tensors: [String: Tensor]
  public let config: [String: Double]

  public init(contentsOf url: URL) throws {
    self = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
  }

  /// The data of tensor `name`; traps with the fixture's tensor names if it is missing,
  /// which is a broken fixture rather than a kernel failure.
  public func data(_ name: String) -> [Float] {
    guard let t = tensors[name] else {
      preconditionFailure("fixture has no tensor '\(name)'; it has \(tensors.keys.sorted())")
    }
    return t.data
  }

  public func shape(_ name: String) -> [Int] {
    guard let t = tensors[name] else { preconditionFailure("fixture has no tensor '\(name)'") }
    return t.shape
  }

  public func int(_ key: String) -> Int {
    guard let v = config[key] else { preconditionFailure("fixture has no config '\(key)'") }
    return Int(v)
  }

  public func float(_ key: String) -> Float {
    guard let v = config[key] else { preconditionFailure("fixture has no config '\(key)'") }
    return Float(v)
  }
}
