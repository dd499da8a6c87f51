import Foundation
import LomoCore

/// The safetensors weights of a Hugging Face model folder: `model.safetensors`, or the shards
/// listed by `model.safetensors.index.json` (its `weight_map`: tensor name -> shard file).
public final class SafetensorsCheckpoint: @unchecked Sendable {
  public let directory: String
  /// Each tensor's shard.
  private let files: [String: SafetensorsFile]

  public init(directory: String) throws {
    self.directory = directory
    let index = (directory as NSString).appendingPathComponent("model.safetensors.index.json")
    var files: [String: SafetensorsFile] = [:]
    if FileManager.default.fileExists(atPath: index) {
      let shardNames = try Self.shardNames(indexPath: index)
      for shardName in Set(shardNames.values).sorted() {
        guard !shardName.contains("/"), !shardName.hasPrefix(".") else {
          throw SafetensorsError(path: index, problem: .invalidHeader("shard name '\(shardName)' is not a plain file name"))
        }
        let shard = try SafetensorsFile(path: (directory as NSString).appendingPathComponent(shardName))
        for name in shard.tensors.keys {
          guard files[name] == nil else { throw SafetensorsError(path: shard.path, problem: .duplicateTensor(name)) }
          files[name] = shard
        }
      }
      for (name, shard) in shardNames where files[name] == nil {
        throw SafetensorsError(path: index, problem: .missingTensor("\(name) (listed in shard \(shard))"))
      }
    } else {
      let single = try SafetensorsFile(path: (directory as NSString).appendingPathComponent("model.safetensors"))
      for name in single.tensors.keys { files[name] = single }
    }
    self.files = files
  }

  private static func shardNames(indexPath: String) throws -> [String: String] {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: indexPath)) } catch {
      throw SafetensorsError(path: indexPath, problem: .unreadable(error.localizedDescription))
    }
    var map: [String: String] = [:]
    do throws(JSONError) {
      for (tensor, shard) in try JSONField(JSONValue(parsing: data))["weight_map"].members() {
        map[tensor] = try shard.string()
      }
    } catch {
      throw SafetensorsError(path: indexPath, problem: .invalidHeader("no weight_map of tensor name -> shard file: \(error)"))
    }
    return map
  }

  public var tensorNames: [String] { files.keys.sorted() }

  public func info(_ name: String) -> SafetensorsFile.TensorInfo? { files[name]?.tensors[name] }

  /// Writes tensor `name` widened to f32 into `out`, checking its shape.
  public func readFloats(_ name: String, expectedShape: [Int], into out: UnsafeMutablePointer<Float>) throws {
    guard let file = files[name] else {
      throw SafetensorsError(path: directory, problem: .missingTensor(name))
    }
    try file.readFloats(name, expectedShape: expectedShape, into: out)
  }
}
