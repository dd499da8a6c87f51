import Foundation
import LomoCore
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
  static func preTokenizer(_ pre: String) -> JSONValue? {
    let byteLevel: JSONValue = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
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
    guard let model = m[GGUFTokenizerKey.model]?.stringValue else { return .unsupported("the GGUF has no tokenizer") }
    guard model == "gpt2" else { return .unsupported("tokenizer model '\(model)' (only byte-level BPE, 'gpt2', is converted)") }
    let pre = m[GGUFTokenizerKey.pre]?.stringValue ?? "default"
    guard let preTokenizer = preTokenizer(pre) else { return .unsupported("pre-tokenizer '\(pre)' is not known to lomo") }
    guard let tokens = try? m.stringArray(GGUFTokenizerKey.tokens), let merges = try? m.stringArray(GGUFTokenizerKey.merges) else {
      return .unsupported("tokenizer.ggml.tokens or tokenizer.ggml.merges is missing")
    }
    let types = (try? m.intArray(GGUFTokenizerKey.tokenType)) ?? []
    // Tokens are distinct byte strings (canonically equivalent spellings are different tokens).
    var seen = Set<[UInt8]>()
    for token in tokens where !seen.insert(Array(token.utf8)).inserted {
      return .unsupported("token '\(token)' appears twice in the vocabulary")
    }
    let vocab = JSONObject(tokens.enumerated().map { (key: $1, value: JSONValue($0)) })
    var pairs: [JSONValue] = []
    pairs.reserveCapacity(merges.count)
    for merge in merges {
      let parts = merge.split(separator: " ", omittingEmptySubsequences: false)
      guard parts.count == 2 else { return .unsupported("merge '\(merge)' is not two tokens") }
      pairs.append(.array(parts.map { .string(String($0)) }))
    }
    var added: [JSONValue] = []
    for (id, type) in types.enumerated() where (type == 3 || type == 4) && id < tokens.count {
      added.append([
        "id": JSONValue(id), "content": .string(tokens[id]), "single_word": false, "lstrip": false, "rstrip": false,
        "normalized": .bool(type == 4), "special": .bool(type == 3),
      ])
    }
    func special(_ key: String) -> (id: Int, token: String)? {
      guard let id = m[key]?.intValue, id >= 0, id < tokens.count else { return nil }
      return (id, tokens[id])
    }
    let bos = special(GGUFTokenizerKey.bosID), eos = special(GGUFTokenizerKey.eosID)
    let unk = special(GGUFTokenizerKey.unknownID), pad = special(GGUFTokenizerKey.paddingID)
    let addBOS = m[GGUFTokenizerKey.addBOS]?.boolValue ?? false
    var postProcessor = JSONValue.null
    if addBOS, let bos {
      func piece(_ sequence: String, _ typeID: Int) -> JSONValue { ["Sequence": ["id": .string(sequence), "type_id": JSONValue(typeID)]] }
      let token = JSONValue.string(bos.token)
      let bosPiece: JSONValue = ["SpecialToken": ["id": token, "type_id": 0]]
      postProcessor = [
        "type": "TemplateProcessing", "single": [bosPiece, piece("A", 0)],
        "pair": [bosPiece, piece("A", 0), ["SpecialToken": ["id": token, "type_id": 1]], piece("B", 1)],
        "special_tokens": .object(JSONObject([(bos.token, ["id": token, "ids": [JSONValue(bos.id)], "tokens": [token]])])),
      ]
    }
    let tokenizer: JSONValue = [
      "version": "1.0", "truncation": nil, "padding": nil, "added_tokens": .array(added),
      "normalizer": nil, "pre_tokenizer": preTokenizer, "post_processor": postProcessor,
      "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
      "model": [
        // Byte-level BPE covers every byte, so the model needs no unknown token.
        "type": "BPE", "dropout": nil, "unk_token": nil,
        "continuing_subword_prefix": nil, "end_of_word_suffix": nil, "fuse_unk": false,
        "byte_fallback": false, "ignore_merges": false, "vocab": .object(vocab), "merges": .array(pairs),
      ],
    ]
    var specials = JSONObject()
    specials["bos_token"] = bos.map { .string($0.token) }
    specials["eos_token"] = eos.map { .string($0.token) }
    specials["unk_token"] = unk.map { .string($0.token) }
    specials["pad_token"] = pad.map { .string($0.token) }
    var config = specials
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config["model_max_length"] = JSONValue(maxContext)
    config["add_bos_token"] = .bool(addBOS)
    config["clean_up_tokenization_spaces"] = false
    config["chat_template"] = m[GGUFTokenizerKey.chatTemplate]?.stringValue.map(JSONValue.string)
    return .files([
      "tokenizer.json": Data(tokenizer.serialized([.sortedKeys])),
      "tokenizer_config.json": Data(JSONValue.object(config).serialized([.pretty, .sortedKeys])),
      "special_tokens_map.json": Data(JSONValue.object(specials).serialized([.pretty, .sortedKeys])),
    ])
  }
}
