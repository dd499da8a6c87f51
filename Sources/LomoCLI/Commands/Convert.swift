import ArgumentParser
import Foundation
import LomoCore
import LomoModel
import LomoTrain

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

  @OptionGroup(title: "Model") var model: ModelOption

  @Option(help: "Output path: a .gguf file, or a folder for safetensors.")
  var output: String

  @Option(help: "Output format: gguf or safetensors (default: gguf when --output ends in .gguf).")
  var format: TrainingOutput.Format?

  @Option(help: "GGUF tensor type (norm scales stay f32).")
  var type: ModelExporter.GGUFType = .f32

  @Option(help: "safetensors dtype.")
  var dtype: DType = .f32

  @Flag(help: "Replace an existing output.")
  var overwrite = false

  func run() throws {
    let source = try ModelSource.resolve(model.model)
    let parameters = try source.loadParameters(dtype: .f32)
    let format = self.format ?? (output.hasSuffix(".gguf") ? .gguf : .safetensors)
    let summary: ModelExporter.Summary = switch format {
    case .gguf:
      try ModelExporter.writeGGUF(parameters, to: output, type: type,
                                  source: source, overwrite: overwrite)
    case .safetensors:
      try ModelExporter.writeHuggingFace(parameters, to: output, dtype: dtype,
                                         source: source, overwrite: overwrite)
    }
    for file in summary.files { print("wrote   \(file)") }
    for missing in summary.missing { print("missing \(missing)") }
  }
}
