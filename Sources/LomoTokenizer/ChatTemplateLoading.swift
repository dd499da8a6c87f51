import Foundation
import LomoCore

/// A model's chat template could not be used: the file (and field) it came from and why.
public struct ChatTemplateLoadError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file, with the field where the template is one (`model.gguf: tokenizer.chat_template`).
  public let source: String
  public let problem: String

  public init(source: String, problem: String) {
    self.source = source
    self.problem = problem
  }

  public var description: String { "\(source): the chat template cannot be used: \(problem)" }
}

/// A model's chat template as loaded: parsed at load time, its failure kept (not thrown) so a
/// model whose template lomo cannot parse still loads and trains on data that needs none.
public typealias LoadedChatTemplate = Result<ChatTemplate, ChatTemplateLoadError>

extension ChatTemplate {
  /// `chat_template.jinja` files larger than this are not read.
  public static let maxTemplateFileBytes = 4 << 20

  /// Parses `text`, which came from `source` (named in the error).
  public static func load(_ text: String, source: String, bosToken: String, eosToken: String) -> LoadedChatTemplate {
    do {
      return .success(try ChatTemplate(template: text, bosToken: bosToken, eosToken: eosToken))
    } catch {
      return .failure(ChatTemplateLoadError(source: source, problem: error.description))
    }
  }

  /// The chat template of a Hugging Face model folder, as transformers' `from_pretrained` finds
  /// it: `chat_template.jinja` when the folder has one (it takes precedence), else
  /// `tokenizer_config.json`'s `chat_template`, a string or a list of `{"name", "template"}`
  /// of which the one named "default" is used. Nil when the folder has neither.
  public static func load(huggingFaceFolder folder: URL, bosToken: String, eosToken: String) -> LoadedChatTemplate? {
    let jinja = folder.appendingPathComponent("chat_template.jinja")
    if FileManager.default.fileExists(atPath: jinja.path) {
      switch readText(jinja) {
      case .success(let text): return load(text, source: jinja.path, bosToken: bosToken, eosToken: eosToken)
      case .failure(let e): return .failure(e)
      }
    }
    let config = folder.appendingPathComponent("tokenizer_config.json")
    guard FileManager.default.fileExists(atPath: config.path) else { return nil }
    let source = config.path + ": chat_template"
    let text: String?
    switch readData(config, limit: TokenizerSpec.maxTokenizerJSONBytes) {
    case .failure(let e): return .failure(e)
    case .success(let data):
      do {
        text = try configTemplate(data)
      } catch {
        return .failure(ChatTemplateLoadError(source: config.path, problem: error.description))
      }
    }
    return text.map { load($0, source: source, bosToken: bosToken, eosToken: eosToken) }
  }

  /// `chat_template` of a `tokenizer_config.json`; nil when the field is absent or null.
  static func configTemplate(_ data: Data) throws(JSONError) -> String? {
    guard let field = JSONField(try JSONValue(parsing: data))["chat_template"].ifPresent else { return nil }
    if case .string(let s)? = field.value { return s }
    for entry in try field.array() where try entry["name"].string() == "default" {
      return try entry["template"].string()
    }
    throw field.error(.invalid("a list of templates with none named \"default\""))
  }

  static func readData(_ url: URL, limit: Int) -> Result<Data, ChatTemplateLoadError> {
    let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
    if let size = attributes?[.size] as? Int, size > limit {
      return .failure(ChatTemplateLoadError(source: url.path, problem: "the file has \(size) bytes, more than \(limit)"))
    }
    guard let data = try? Data(contentsOf: url) else {
      return .failure(ChatTemplateLoadError(source: url.path, problem: "the file cannot be read"))
    }
    return .success(data)
  }

  static func readText(_ url: URL) -> Result<String, ChatTemplateLoadError> {
    readData(url, limit: maxTemplateFileBytes).flatMap { data in
      String(data: data, encoding: .utf8).map { .success($0) }
        ?? .failure(ChatTemplateLoadError(source: url.path, problem: "the file is not UTF-8 text"))
    }
  }
}

extension Tokenizer {
  /// The BOS token's text as chat templates see it (`bos_token`); empty when the tokenizer has
  /// none, so `{{ bos_token }}` renders nothing.
  public var bosToken: String { bosID.flatMap(token(for:)) ?? "" }

  /// The EOS token's text as chat templates see it (`eos_token`); empty when there is none.
  public var eosToken: String { eosID.flatMap(token(for:)) ?? "" }
}
