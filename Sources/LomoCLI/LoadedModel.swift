import Foundation
import LomoCore
import LomoDistributed
import LomoFormats
import LomoModel
import LomoTokenizer
import LomoTrain

/// A model resolved from a `--model` argument with everything the commands need: parameters,
/// tokenizer and chat template, all from the same GGUF file or Hugging Face folder.
struct LoadedModel {
  let source: ModelSource
  let parameters: LlamaParameters
  let tokenizer: Tokenizer
  /// The chat template (GGUF `tokenizer.chat_template`; in a Hugging Face folder
  /// `chat_template.jinja`, else `tokenizer_config.json`'s `chat_template`), or why it cannot be
  /// used; nil when the model has none. A broken template fails only the commands that need it.
  let chatTemplate: LoadedChatTemplate?

  /// The token batches are right-padded with: the tokenizer's PAD, else EOS, else 0.
  var padToken: Int32 { tokenizer.padID ?? tokenizer.eosID ?? 0 }

  /// Turns records into token sequences for this model (its tokenizer, chat template and
  /// vocabulary), truncating to `maxSequenceLength`, which must fit the model's context.
  func exampleBuilder(maxSequenceLength: Int) throws -> ExampleBuilder {
    let context = parameters.config.maxContext
    guard maxSequenceLength <= context else {
      throw CommandError("--max-seq-len \(maxSequenceLength) is longer than the context of \(source.path) (\(context) tokens); use at most \(context)")
    }
    return ExampleBuilder(encoder: tokenizer, maxSequenceLength: maxSequenceLength, chatTemplate: chatTemplate,
                   vocabularySize: parameters.config.vocabSize)
  }

  init(_ argument: String?, dtype: DType, shardedOver communicator: Communicator = Communicator(),
       streamingLayersIn folder: String? = nil) throws {
    source = try ModelSource.resolve(argument)
    parameters = try source.loadParameters(dtype: dtype, shardedOver: communicator, streamingLayersIn: folder)
    tokenizer = try Self.tokenizer(for: source)
    chatTemplate = Self.chatTemplate(for: source, tokenizer: tokenizer)
  }

  /// The chat template of `source`, with `tokenizer`'s BOS/EOS strings as the template sees them.
  static func chatTemplate(for source: ModelSource, tokenizer: Tokenizer) -> LoadedChatTemplate? {
    switch source {
    case .gguf(let path):
      return tokenizer.chatTemplate(ggufPath: path)
    case .huggingFace(let dir):
      return ChatTemplate.load(huggingFaceFolder: URL(fileURLWithPath: dir), bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken)
    }
  }

  static func tokenizer(for source: ModelSource) throws -> Tokenizer {
    switch source {
    case .gguf(let path):
      return try Tokenizer(gguf: try GGUFFile(path: path))
    case .huggingFace(let dir):
      let folder = URL(fileURLWithPath: dir)
      let json = folder.appendingPathComponent("tokenizer.json")
      guard FileManager.default.fileExists(atPath: json.path) else {
        throw ModelLoadError(path: dir, problem: "no tokenizer.json in the model folder")
      }
      let config = folder.appendingPathComponent("tokenizer_config.json")
      return try Tokenizer(
        tokenizerJSON: json, config: FileManager.default.fileExists(atPath: config.path) ? config : nil)
    }
  }
}
