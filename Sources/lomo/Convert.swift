import ArgumentParser
import Foundation
import LomoCore
import LomoModel

/// `lomo convert`: re-save a model as GGUF or as a Hugging Face folder (the same writers the
/// trainer's checkpoints use).
struct ConvertModel: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert",
    abstract: "Save a model as a llama.cpp GGUF file or a Hugging Face safetensors folder.",
    discussion: """
      From a GGUF source the tokenizer and chat template metadata are kept in a GGUF output; \
      from a Hugging Face folder its tokenizer files are copied into a folder output. Writes \
      are atomic and never replace an existing output without --overwrite.
      """)

  enum Format: String, ExpressibleByArgument, CaseIterable { case gguf, safetensors }

  @Option(help: "A .gguf file, a Hugging Face model folder, or '\(ModelSource.defaultName)' (default).")
  var model: String?

  @Option(help: "Output path: a .gguf file, or a folder for safetensors.")
  var output: String

  @Option(help: "Output format: gguf or safetensors (default: gguf when --output ends in .gguf).")
  var format: Format?

  @Option(help: "GGUF tensor type: f32, f16, bf16 or q8_0 (norm scales stay f32).")
  var type: String = "f32"

  @Option(help: "safetensors dtype: f32, bf16 or f16.")
  var dtype: String = "f32"

  @Flag(help: "Replace an existing output.")
  var overwrite = false

  func validate() throws {
    guard ModelExporter.GGUFType(rawValue: type.lowercased()) != nil else {
      throw ValidationError("--type must be one of f32, f16, bf16, q8_0")
    }
    guard DType(rawValue: dtype.lowercased()) != nil else { throw ValidationError("--dtype must be one of f32, bf16, f16") }
  }

  func run() throws {
    let source = try ModelSource.resolve(model)
    let parameters = try source.loadParameters(dtype: .f32)
    let format = self.format ?? (output.hasSuffix(".gguf") ? .gguf : .safetensors)
    let summary: ModelExporter.Summary = switch format {
    case .gguf:
      try ModelExporter.writeGGUF(parameters, to: output, type: ModelExporter.GGUFType(rawValue: type.lowercased())!,
                                  source: source, overwrite: overwrite)
    case .safetensors:
      try ModelExporter.writeHuggingFace(parameters, to: output, dtype: DType(rawValue: dtype.lowercased())!,
                                         source: source, overwrite: overwrite)
    }
    for file in summary.files { print("wrote   \(file)") }
    for missing in summary.missing { print("missing \(missing)") }
  }
}
