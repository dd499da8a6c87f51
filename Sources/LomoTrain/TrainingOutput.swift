import Foundation
import LomoCore
import LomoFormats
import LomoModel

/// The output folder of a training run and how its models are saved for other tools:
///
///     OUTPUT/final/       the model after the last step
///     OUTPUT/best/        the model at the best evaluation (with evaluation data; the
///                         starting model competes), or a link to final/ when that is it
///     OUTPUT/checkpoint/  a resumable checkpoint in lomo's own format (written on Ctrl-C;
///                         continue with --resume OUTPUT/checkpoint)
///     OUTPUT/run.json     the run record (`RunRecord`): options, data hash, results
///     OUTPUT/README.md    a model card made from it (`ModelCard`)
///     OUTPUT/run.svg      training loss, evaluation and learning rate against steps (`RunPlot`)
///
/// `final` and `best` hold `model.gguf` (a llama.cpp GGUF of the storage dtype, tokenizer
/// metadata copied from a GGUF source) or a Hugging Face folder (config.json,
/// model.safetensors, generation_config.json, tokenizer files), written by `ModelExporter`.
public struct TrainingOutput: Sendable {
  public enum Format: String, CaseIterable, Sendable {
    case gguf, safetensors

    /// GGUF when the source model is a GGUF file, safetensors otherwise.
    public static func matching(_ source: ModelSource?) -> Format {
      if case .gguf = source { .gguf } else { .safetensors }
    }
  }

  public let directory: URL
  public let format: Format
  /// The model trained from: its tokenizer (and chat template) go with every saved model.
  public let source: ModelSource?
  /// The fine-tune's name in the saved models' metadata (GGUF `general.name`, the source's name
  /// becoming its base model's; a Hugging Face folder's README.md model card): by default the
  /// output folder's name.
  public let name: String

  public init(directory: URL, format: Format, source: ModelSource?, name: String? = nil) {
    self.directory = directory
    self.format = format
    self.source = source
    self.name = name ?? directory.standardizedFileURL.lastPathComponent
  }

  public var runRecord: URL { directory.appendingPathComponent(RunRecord.fileName) }
  public var modelCard: URL { directory.appendingPathComponent(ModelCard.fileName) }
  public var plot: URL { directory.appendingPathComponent(RunPlot.fileName) }

  public var final: URL { directory.appendingPathComponent("final") }
  public var best: URL { directory.appendingPathComponent("best") }
  public var checkpoint: URL { directory.appendingPathComponent("checkpoint") }

  /// What another tool loads from a model folder: `folder/model.gguf`, or the folder itself.
  public func loadablePath(_ folder: URL) -> String {
    format == .gguf ? folder.appendingPathComponent("model.gguf").path : folder.path
  }

  /// The GGUF tensor type that stores `dtype` without loss.
  public static func ggufType(_ dtype: DType) -> ModelExporter.GGUFType {
    switch dtype {
    case .f32: .f32
    case .bf16: .bf16
    case .f16: .f16
    }
  }

  /// Writes `parameters` (in their storage dtype) as a model folder, atomically (through an
  /// `AtomicDirectory`). An existing folder is replaced only with `overwrite`. A model holding
  /// inf or NaN is refused (`TrainingError.nonFiniteWeights`) before anything is written.
  @discardableResult
  public func save(_ parameters: LlamaParameters, to folder: URL, overwrite: Bool) throws -> ModelExporter.Summary {
    if let (id, index) = parameters.firstNonFinite() {
      throw TrainingError.nonFiniteWeights(path: folder.path, parameter: "\(id)", index: index)
    }
    try Folders.createParent(of: folder.path)
    switch format {
    case .safetensors:
      return try ModelExporter.writeHuggingFace(parameters, to: folder.path, dtype: parameters.dtype,
                                                source: source, name: name, overwrite: overwrite)
    case .gguf:
      var summary = try AtomicDirectory.write(to: folder.path, overwrite: overwrite) { staging in
        try ModelExporter.writeGGUF(parameters, to: staging.path("model.gguf"),
                                    type: Self.ggufType(parameters.dtype), source: source, name: name)
      }
      summary.files = [loadablePath(folder)]
      return summary
    }
  }

  /// Makes best/ a symbolic link to final/ (replacing what was there), for a run whose best
  /// evaluation was of its last step.
  public func linkBestToFinal() throws {
    try AtomicDirectory.link(best.path, to: final.lastPathComponent)
  }

  /// Writes the run record, the model card made from it, and the plot (each atomically).
  public func writeRecord(_ record: RunRecord, plot: RunPlot) throws {
    try record.write(to: directory)
    try AtomicFileWriter.write(Array(ModelCard.render(record, format: format).utf8), to: modelCard.path, overwrite: true)
    try AtomicFileWriter.write(Array(plot.svg(title: "\(name): \(record.status.rawValue)").utf8), to: self.plot.path, overwrite: true)
  }
}
