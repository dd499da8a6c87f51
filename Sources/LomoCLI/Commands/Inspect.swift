import ArgumentParser
import Foundation
import LomoCore
import LomoFormats
import LomoModel

/// `lomo inspect PATH`: what a checkpoint holds.
struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show a model file's metadata, tensors, types and parameter count.",
    discussion: """
      PATH is a GGUF file, a Hugging Face folder (config.json + model.safetensors), or \
      '\(ModelSource.defaultName)' for the default model. Long metadata arrays (vocabularies, \
      merges) are summarised. With --compare OTHER it instead compares the two models' weights \
      tensor by tensor (any formats: e.g. a GGUF export with the Hugging Face folder it came \
      from, or a run on several ranks with one on one process) and exits with status 1 when a \
      tensor differs by more than --tolerance.
      """)

  @Argument(help: "A .gguf file, a Hugging Face model folder, or '\(ModelSource.defaultName)'.")
  var path: String

  @Flag(help: "List every tensor (by default the first and last few).")
  var allTensors = false

  @Option(help: "Compare the weights with this model (same architecture) instead of listing them.")
  var compare: String?

  @Option(help: "With --compare: the largest difference allowed, relative to each tensor's largest magnitude.")
  var tolerance: Double = 0

  func run() throws {
    if let compare {
      let comparison = try ModelComparison(try ModelSource.resolve(path), try ModelSource.resolve(compare))
      print(comparison.report)
      guard comparison.worst.difference <= tolerance else {
        throw CommandError("\(comparison.worst.tensor) differs by \(comparison.worst.difference) relative, more than --tolerance \(tolerance)")
      }
      return
    }
    let source = try ModelSource.resolve(path)
    switch source {
    case .gguf(let file): try inspectGGUF(try GGUFFile(path: file))
    case .huggingFace(let dir): try inspectHuggingFace(dir)
    }
  }

  func inspectGGUF(_ file: GGUFFile) throws {
    print("file        \(file.path)")
    print("format      GGUF v\(file.version), \(file.tensors.count) tensors, alignment \(file.alignment)")
    print("\nmetadata")
    for key in file.metadata.keys {
      guard let value = file.metadata[key] else { continue }
      print("  \(TextTable.pad(key, to: 40))  \(summary(value))")
    }
    let types = Dictionary(grouping: file.tensors, by: { $0.type.name }).mapValues(\.count)
    print("\ntensor types  " + types.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
    printTensors(file.tensors.map { ($0.name, $0.type.name, $0.shape) })
    print("\nparameters  \(Format.count(file.tensors.reduce(0) { $0 + $1.elementCount }))")
    do { printConfig(try LlamaConfig(gguf: file)) } catch {
      print("\nnot loadable as a LLaMA model: \(error)")
    }
  }

  func inspectHuggingFace(_ dir: String) throws {
    let config = try LlamaConfig(huggingFaceConfig: (dir as NSString).appendingPathComponent("config.json"))
    let checkpoint = try SafetensorsCheckpoint(directory: dir)
    print("folder      \(dir)")
    print("format      safetensors, \(checkpoint.tensorNames.count) tensors")
    let infos = checkpoint.tensorNames.compactMap(checkpoint.info)
    printTensors(infos.map { ($0.name, $0.dtype.rawValue, $0.shape) })
    print("\nparameters  \(Format.count(infos.reduce(0) { $0 + $1.count }))")
    printConfig(config)
  }

  func printTensors(_ tensors: [(name: String, type: String, shape: [Int])]) {
    print("\ntensors")
    let shown = allTensors || tensors.count <= 12 ? tensors : Array(tensors.prefix(6)) + Array(tensors.suffix(6))
    let width = shown.map(\.name.count).max() ?? 0
    for (i, t) in shown.enumerated() {
      if !allTensors && tensors.count > 12 && i == 6 { print("  … \(tensors.count - 12) more (--all-tensors lists them)") }
      print("  \(TextTable.pad(t.name, to: width))  \(TextTable.pad(t.type, to: 6)) \(t.shape)")
    }
  }

  func printConfig(_ c: LlamaConfig) {
    print("""

      as a \(c.family.displayName) model
        layers \(c.layers), hidden \(c.hiddenSize), ffn \(c.intermediateSize), heads \(c.heads) (kv \(c.kvHeads), dim \(c.headDim))
        vocab \(c.vocabSize), context \(c.maxContext), rope theta \(c.ropeTheta), rms eps \(c.rmsEps), \
      \(c.tiedEmbeddings ? "tied" : "untied") embeddings
        \(Format.count(c.parameterCount)) trainable parameters
      """)
  }

  func summary(_ value: GGUFValue) -> String {
    if case .array(_, let items) = value {
      let head = items.prefix(3).map { summary($0) }.joined(separator: ", ")
      return "[\(value.typeDescription), \(items.count) items] \(head)\(items.count > 3 ? ", …" : "")"
    }
    if case .string(let s) = value {
      let oneLine = s.replacingOccurrences(of: "\n", with: "\\n")
      return oneLine.count > 80 ? "\"\(oneLine.prefix(77))…\"" : "\"\(oneLine)\""
    }
    return value.doubleValue.map { String(describing: $0) } ?? value.boolValue.map(String.init) ?? "\(value)"
  }
}
