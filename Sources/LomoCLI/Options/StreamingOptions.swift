import ArgumentParser
import Foundation
import LomoCore

/// `--stream-weights`, `--stream-dir`, `--stream-budget`: the transformer blocks' weights kept
/// in a file on disk and read as they are needed, for models larger than memory.
struct StreamingOptions: ParsableArguments {
  @Flag(help: "Keep the layers' weights in a file on disk and read each layer as it is needed (the next one while this one computes), writing it back after its update: for models larger than memory. The file is removed when lomo exits.")
  var streamWeights = false

  @Option(help: "Folder for the streamed weights file (its disk needs the model's size free; a fast local disk). (default: the output folder; for lomo bench, eval, generate and chat the current folder)")
  var streamDir: String?

  @Option(help: "Memory for the streamed layers' weights, e.g. 4GiB or 500MB; at least one layer. (default: what the memory estimate leaves of the available memory, less a tenth)")
  var streamBudget: ByteCount?

  func validate() throws {
    if !streamWeights && (streamDir != nil || streamBudget != nil) {
      throw ValidationError("--stream-dir and --stream-budget need --stream-weights")
    }
  }

  /// The folder the weights stream through (nil when not streaming); `defaultFolder` when
  /// none is named.
  func folder(default defaultFolder: String) -> String? {
    streamWeights ? streamDir ?? defaultFolder : nil
  }

  /// The folder for a command without an output folder: the current one by default.
  var folderOrCurrent: String? { folder(default: FileManager.default.currentDirectoryPath) }
}

/// A byte count from the command line: a whole number with an optional unit, decimal (kB, MB,
/// GB, TB) or binary (KiB, MiB, GiB, TiB), in any case; a fraction with a unit (1.5GiB).
struct ByteCount: ExpressibleByArgument, Equatable {
  let bytes: Int

  init(bytes: Int) { self.bytes = bytes }

  init?(argument: String) {
    let text = argument.trimmingCharacters(in: .whitespaces)
    let digits = text.prefix { $0.isNumber || $0 == "." }
    let unit = text.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
    let scale: Double
    switch unit {
    case "", "b": scale = 1
    case "k", "kb": scale = 1e3
    case "m", "mb": scale = 1e6
    case "g", "gb": scale = 1e9
    case "t", "tb": scale = 1e12
    case "kib": scale = 1024
    case "mib": scale = 1024 * 1024
    case "gib": scale = 1024 * 1024 * 1024
    case "tib": scale = 1024 * 1024 * 1024 * 1024
    default: return nil
    }
    guard let value = Double(digits), value > 0, (value * scale).isFinite, value * scale < 1e18 else { return nil }
    bytes = Int(value * scale)
  }

  var defaultValueDescription: String { Format.bytes(bytes) }
}
