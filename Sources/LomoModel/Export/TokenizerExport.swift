import Foundation
import LomoFormats

extension ModelExporter {
  /// Hugging Face tokenizer files rebuilt from a GGUF's tokenizer metadata, or why not.
  public enum TokenizerConversion {
    /// File name (tokenizer.json, tokenizer_config.json, special_tokens_map.json) to contents.
    case files([String: Data])
    case unsupported(String)
  }

  /// Pre-tokenizers of the byte-level BPE vocabularies (`tokenizer.ggml.model` "gpt2") whose
  /// `tokenizer.ggml.pre` lomo can rebuild exactly, as in the models' own tokenizer.json.
  static func preTokenizer(_ pre: String) -> [String: Any]? {
    let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
    switch pre {
    case "smollm":  // SmolLM / SmolLM2: every digit its own piece, then GPT-2's byte-level split.
      return ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true], byteLevel]]
    case "gpt2", "gpt-2", "default":
      return byteLevel
    default:
      return nil
    }
  }

  /// Rebuilds tokenizer.json (BPE vocabulary, merges, special tokens, pre-tokenizer and
  /// decoder), tokenizer_config.json (special tokens, chat template) and
  /// special_tokens_map.json from a GGUF's `tokenizer.*` metadata, the inverse of llama.cpp's
  /// convert script: CONTROL tokens (type 3) become special added tokens, USER_DEFINED (4)
  /// non-special added tokens. Byte-level BPE vocabularies ("gpt2") with a known pre-tokenizer
  /// are supported; SentencePiece ("llama") and other vocabularies are not yet.
  public static func huggingFaceTokenizer(from m: GGUFMetadata, maxContext: Int) -> TokenizerConversion {
    guard let model = m["tokenizer.ggml.model"]?.stringValue else { return .unsupported("the GGUF has no tokenizer") }
    guard model == "gpt2" else { return .unsupported("tokenizer model '\(model)' (only byte-level BPE, 'gpt2', is converted)") }
    let pre = m["tokenizer.ggml.pre"]?.stringValue ?? "default"
    guard let preTokenizer = preTokenizer(pre) else { return .unsupported("pre-tokenizer '\(pre)' is not known to lomo") }
    guard let tokens = try? m.stringArray("tokenizer.ggml.tokens"), let merges = try? m.stringArray("tokenizer.ggml.merges") else {
      return .unsupported("tokenizer.ggml.tokens or tokenizer.ggml.merges is missing")
    }
    let types = (try? m.intArray("tokenizer.ggml.token_type")) ?? []
    var vocab: [String: Int] = [:]
    for (id, token) in tokens.enumerated() where vocab.updateValue(id, forKey: token) != nil {
      return .unsupported("token '\(token)' appears twice in the vocabulary")
    }
    var pairs: [[String]] = []
    pairs.reserveCapacity(merges.count)
    for merge in merges {
      let parts = merge.split(separator: " ", omittingEmptySubsequences: false)
      guard parts.count == 2 else { return .unsupported("merge '\(merge)' is not two tokens") }
      pairs.append(parts.map(String.init))
    }
    var added: [[String: Any]] = []
    for (id, type) in types.enumerated() where (type == 3 || type == 4) && id < tokens.count {
      added.append([
        "id": id, "content": tokens[id], "single_word": false, "lstrip": false, "rstrip": false,
        "normalized": type == 4, "special": type == 3,
      ])
    }
    func special(_ key: String) -> String? {
      guard let id = m["tokenizer.ggml.\(key)_token_id"]?.intValue, id >= 0, id < tokens.count else { return nil }
      return tokens[id]
    }
    let bos = special("bos"), eos = special("eos"), unk = special("unknown"), pad = special("padding")
    let addBOS = m["tokenizer.ggml.add_bos_token"]?.boolValue ?? false
    var postProcessor: Any = NSNull()
    if addBOS, let bos, let bosID = vocab[bos] {
      func piece(_ sequence: String, _ typeID: Int) -> [String: Any] { ["Sequence": ["id": sequence, "type_id": typeID]] }
      let bosPiece: [String: Any] = ["SpecialToken": ["id": bos, "type_id": 0]]
      postProcessor = [
        "type": "TemplateProcessing", "single": [bosPiece, piece("A", 0)],
        "pair": [bosPiece, piece("A", 0), ["SpecialToken": ["id": bos, "type_id": 1]], piece("B", 1)],
        "special_tokens": [bos: ["id": bos, "ids": [bosID], "tokens": [bos]]],
      ]
    }
    let tokenizer: [String: Any] = [
      "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added,
      "normalizer": NSNull(), "pre_tokenizer": preTokenizer, "post_processor": postProcessor,
      "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
      "model": [
        // Byte-level BPE covers every byte, so the model needs no unknown token.
        "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(),
        "continuing_subword_prefix": NSNull(), "end_of_word_suffix": NSNull(), "fuse_unk": false,
        "byte_fallback": false, "ignore_merges": false, "vocab": vocab, "merges": pairs,
      ] as [String: Any],
    ]
    var specials: [String: Any] = [:]
    if let bos { specials["bos_token"] = bos }
    if let eos { specials["eos_token"] = eos }
    if let unk { specials["unk_token"] = unk }
    if let pad { specials["pad_token"] = pad }
    var config = specials
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config["model_max_length"] = maxContext
    config["add_bos_token"] = addBOS
    config["clean_up_tokenization_spaces"] = false
    if let template = m["tokenizer.chat_template"]?.stringValue { config["chat_template"] = template }
    do {
      return .files([
        "tokenizer.json": try JSONSerialization.data(withJSONObject: tokenizer, options: [.sortedKeys]),
        "tokenizer_config.json": try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]),
        "special_tokens_map.json": try JSONSerialization.data(withJSONObject: specials, options: [.prettyPrinted, .sortedKeys]),
      ])
    } catch {
      return .unsupported("JSON encoding failed: \(error)")
    }
  }
}
