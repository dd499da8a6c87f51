import Foundation

/// Reading a Hugging Face `tokenizer.json` (model type BPE; byte-level, or SentencePiece-style with
/// a "▁" normaliser / Metaspace and byte fallback). Every field is checked for type and range;
/// anything malformed is a `TokenizerError`, never a crash.
extension TokenizerSpec {
  /// Files larger than this are refused before parsing.
  public static let maxTokenizerJSONBytes = 1 << 30

  static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
  static let llama3Pattern =
    #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
  static let qwen2Pattern =
    #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

  /// Reads `tokenizer.json`; `config` is the optional `tokenizer_config.json`, which names the
  /// bos/eos/pad tokens and whether BOS/EOS are added (the post-processor's template wins).
  public init(tokenizerJSON data: Data, config: Data? = nil) throws {
    guard data.count <= TokenizerSpec.maxTokenizerJSONBytes else {
      throw TokenizerError.tooLarge(what: "tokenizer.json bytes", count: data.count, limit: TokenizerSpec.maxTokenizerJSONBytes)
    }
    let root = try J.object(J.parse(data), "$")
    let model = try J.object(root["model"], "$.model")
    let type = try J.optString(model["type"], "$.model.type") ?? "BPE"
    guard type == "BPE" else { throw TokenizerError.unsupported("model type \(type.debugDescription) (only BPE)") }
    for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
      if let v = try J.optString(model[key], "$.model.\(key)"), !v.isEmpty {
        throw TokenizerError.unsupported("model.\(key) \(v.debugDescription)")
      }
    }

    // Vocabulary: token -> id, dense after added tokens are placed.
    let vocabObj = try J.object(model["vocab"], "$.model.vocab")
    guard vocabObj.count <= Tokenizer.maxVocabulary else {
      throw TokenizerError.tooLarge(what: "vocab", count: vocabObj.count, limit: Tokenizer.maxVocabulary)
    }
    var byID: [Int: String] = [:]
    byID.reserveCapacity(vocabObj.count)
    for (tok, v) in vocabObj.members {
      let id = try J.int(v, "$.model.vocab[\(tok.debugDescription)]")
      guard id >= 0 && id < Tokenizer.maxVocabulary else {
        throw TokenizerError.invalidField(path: "$.model.vocab[\(tok.debugDescription)]", reason: "id \(id) out of range")
      }
      byID[id] = tok
    }
    var added: [AddedToken] = []
    if let list = root["added_tokens"], !list.isNull {
      let arr = try J.array(list, "$.added_tokens")
      guard arr.count <= Tokenizer.maxVocabulary else {
        throw TokenizerError.tooLarge(what: "added_tokens", count: arr.count, limit: Tokenizer.maxVocabulary)
      }
      for (k, item) in arr.enumerated() {
        let p = "$.added_tokens[\(k)]"
        let o = try J.object(item, p)
        let id = try J.int(o["id"], p + ".id")
        guard id >= 0 && id < Tokenizer.maxVocabulary else {
          throw TokenizerError.invalidField(path: p + ".id", reason: "id \(id) out of range")
        }
        let content = try J.string(o["content"], p + ".content")
        guard !content.isEmpty else { throw TokenizerError.invalidField(path: p + ".content", reason: "empty") }
        if let existing = byID[id], !existing.utf8.elementsEqual(content.utf8) {
          throw TokenizerError.invalidField(path: p, reason: "id \(id) is \(existing.debugDescription) in the vocabulary")
        }
        byID[id] = content
        added.append(AddedToken(
          id: Int32(id), content: content, special: try J.optBool(o["special"], p + ".special") ?? false,
          lstrip: try J.optBool(o["lstrip"], p + ".lstrip") ?? false,
          rstrip: try J.optBool(o["rstrip"], p + ".rstrip") ?? false))
      }
    }
    guard let maxID = byID.keys.max() else { throw TokenizerError.invalidVocabulary("empty vocab") }
    var tokens = [String](repeating: "", count: maxID + 1)
    for (id, t) in byID { tokens[id] = t }
    let index = VocabIndex(tokens)

    // Merges: "a b" strings, or [a, b] pairs.
    var merges: [MergePair] = []
    if let m = model["merges"], !m.isNull {
      let arr = try J.array(m, "$.model.merges")
      guard arr.count <= Tokenizer.maxMerges else {
        throw TokenizerError.tooLarge(what: "merges", count: arr.count, limit: Tokenizer.maxMerges)
      }
      merges.reserveCapacity(arr.count)
      for (k, item) in arr.enumerated() {
        if let s = item.stringValue {
          let parts = s.utf8.split(separator: 0x20, omittingEmptySubsequences: false)
          guard parts.count == 2, let a = String(parts[0]), let b = String(parts[1]) else {
            throw TokenizerError.invalidMerge(index: k, merge: s, reason: "not of the form \"left right\"")
          }
          merges.append(MergePair(a, b))
        } else if let pair = item.arrayValue, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue {
          merges.append(MergePair(a, b))
        } else {
          throw TokenizerError.invalidField(path: "$.model.merges[\(k)]", reason: "expected \"a b\" or [a, b]")
        }
      }
    }

    // Pre-tokenizer and normaliser decide the model family.
    let pre = try TokenizerSpec.components(root["pre_tokenizer"], "$.pre_tokenizer")
    let norm = try TokenizerSpec.components(root["normalizer"], "$.normalizer")
    let dec = try TokenizerSpec.components(root["decoder"], "$.decoder")
    let preTypes = pre.map { $0["type"]?.stringValue ?? "?" }
    let modelKind: Model
    var preTokenizer = PreTokenizer.none
    var spacePrefix = SpacePrefix.never
    if preTypes.contains("ByteLevel") {
      modelKind = .bytePairGPT2
      let bl = pre.first { $0["type"]?.stringValue == "ByteLevel" }!
      if try J.optBool(bl["add_prefix_space"], "$.pre_tokenizer.add_prefix_space") == true {
        throw TokenizerError.unsupported("ByteLevel add_prefix_space = true")
      }
      let useRegex = try J.optBool(bl["use_regex"], "$.pre_tokenizer.use_regex") ?? true
      let others = pre.filter { $0["type"]?.stringValue != "ByteLevel" }
      if useRegex {
        preTokenizer = .gpt2
        if others.count == 1, others[0]["type"]?.stringValue == "Digits",
          try J.optBool(others[0]["individual_digits"], "$.pre_tokenizer.individual_digits") == true
        {
          preTokenizer = .smollm
        } else if !others.isEmpty {
          throw TokenizerError.unsupported("pre-tokenizer sequence \(preTypes)")
        }
      } else {
        guard others.count == 1, others[0]["type"]?.stringValue == "Split",
          let pat = others[0]["pattern"]?.objectValue?["Regex"]?.stringValue
        else { throw TokenizerError.unsupported("pre-tokenizer sequence \(preTypes)") }
        switch pat {
        case TokenizerSpec.gpt2Pattern: preTokenizer = .gpt2
        case TokenizerSpec.llama3Pattern: preTokenizer = .llama3
        case TokenizerSpec.qwen2Pattern: preTokenizer = .qwen2
        default: throw TokenizerError.unsupported("split pattern \(pat.debugDescription)")
        }
      }
    } else {
      modelKind = .sentencePieceBPE
      var replacesSpace = false
      for n in norm {
        switch n["type"]?.stringValue {
        case "Replace":
          let pat = n["pattern"]?.objectValue?["String"]?.stringValue
          guard pat == " ", n["content"]?.stringValue == "\u{2581}" else {
            throw TokenizerError.unsupported("normalizer Replace other than \" \" -> \"▁\"")
          }
          replacesSpace = true
        case "Prepend":
          guard n["prepend"]?.stringValue == "\u{2581}" else { throw TokenizerError.unsupported("normalizer Prepend") }
          spacePrefix = .always
        default:
          throw TokenizerError.unsupported("normalizer \(n["type"]?.stringValue ?? "?")")
        }
      }
      for p in pre {
        switch p["type"]?.stringValue {
        case "Metaspace":
          replacesSpace = true
          if try J.optBool(p["split"], "$.pre_tokenizer.split") == true {
            throw TokenizerError.unsupported("Metaspace split = true")
          }
          switch p["prepend_scheme"]?.stringValue {
          case "first": spacePrefix = .first
          case "always": spacePrefix = .always
          case "never": spacePrefix = .never
          default:
            spacePrefix = (try J.optBool(p["add_prefix_space"], "$.pre_tokenizer.add_prefix_space") ?? true) ? .always : .never
          }
        case "Split" where replacesSpace:
          // Gemma splits on " " after the normaliser has replaced every space: a no-op.
          guard p["pattern"]?.objectValue?["String"]?.stringValue == " " else {
            throw TokenizerError.unsupported("pre-tokenizer Split in a SentencePiece tokenizer")
          }
        default:
          throw TokenizerError.unsupported("pre-tokenizer \(p["type"]?.stringValue ?? "?")")
        }
      }
      guard replacesSpace else {
        throw TokenizerError.unsupported("BPE with neither ByteLevel nor a \"▁\" normaliser / Metaspace")
      }
    }
    let decTypes = dec.map { $0["type"]?.stringValue ?? "?" }
    let strip = decTypes.contains("Strip") || (decTypes.contains("Metaspace") && spacePrefix != .never)

    // Special ids: unk from the model, bos/eos from the post-processor template or the config.
    var unkID: Int32?
    if let u = try J.optString(model["unk_token"], "$.model.unk_token") {
      guard let id = index.id(u) else { throw TokenizerError.invalidField(path: "$.model.unk_token", reason: "\(u.debugDescription) not in vocab") }
      unkID = id
    }
    var bosID: Int32?, eosID: Int32?, padID: Int32?
    var addBOS = false, addEOS = false
    if let post = root["post_processor"]?.objectValue, post["type"]?.stringValue == "TemplateProcessing",
      let single = post["single"]?.arrayValue
    {
      var specials: [(Int, String)] = []
      var seqAt = -1
      for (k, item) in single.enumerated() {
        guard let o = item.objectValue else { continue }
        if let s = o["SpecialToken"]?.objectValue, let name = s["id"]?.stringValue {
          specials.append((k, name))
        } else if o["Sequence"] != nil {
          seqAt = k
        }
      }
      for (k, name) in specials {
        guard let id = index.id(name) else {
          throw TokenizerError.invalidField(path: "$.post_processor.single", reason: "\(name.debugDescription) not in vocab")
        }
        if k < seqAt { bosID = id; addBOS = true } else { eosID = id; addEOS = true }
      }
    }
    if let config {
      let c = try J.object(J.parse(config), "tokenizer_config")
      func tokenID(_ key: String) throws -> Int32? {
        guard let v = c[key], !v.isNull else { return nil }
        let s = try v.objectValue.map { try J.string($0["content"], "tokenizer_config.\(key).content") }
          ?? J.string(v, "tokenizer_config.\(key)")
        guard let id = index.id(s) else { throw TokenizerError.invalidField(path: "tokenizer_config.\(key)", reason: "\(s.debugDescription) not in vocab") }
        return id
      }
      bosID = try bosID ?? tokenID("bos_token")
      eosID = try eosID ?? tokenID("eos_token")
      padID = try tokenID("pad_token")
      if unkID == nil { unkID = try tokenID("unk_token") }
      if let b = try J.optBool(c["add_bos_token"], "tokenizer_config.add_bos_token"), root["post_processor"]?.isNull ?? true {
        addBOS = b && bosID != nil
      }
    }

    self.init(
      model: modelKind, tokens: tokens, merges: nil,
      preTokenizer: preTokenizer, addedTokens: added, bosID: bosID, eosID: eosID, unkID: unkID, padID: padID,
      addBOS: addBOS, addEOS: addEOS, spacePrefix: spacePrefix,
      byteFallback: try J.optBool(model["byte_fallback"], "$.model.byte_fallback") ?? false,
      ignoreMerges: try J.optBool(model["ignore_merges"], "$.model.ignore_merges") ?? false,
      fuseUnknown: try J.optBool(model["fuse_unk"], "$.model.fuse_unk") ?? false,
      stripDecodedPrefixSpace: strip)
    if modelKind == .bytePairGPT2 || !merges.isEmpty { self.mergePairs = merges }
  }

  /// A component or the members of a `Sequence` component (`pretokenizers`, `normalizers`, `decoders`).
  static func components(_ v: JSONValue?, _ path: String) throws -> [JSONObject] {
    guard let v, !v.isNull else { return [] }
    let o = try J.object(v, path)
    guard o["type"]?.stringValue == "Sequence" else { return [o] }
    for key in ["pretokenizers", "normalizers", "decoders", "processors"] {
      if let list = o[key] {
        return try J.array(list, path + "." + key).enumerated().flatMap { try components($1, "\(path).\(key)[\($0)]") }
      }
    }
    throw TokenizerError.invalidField(path: path, reason: "Sequence without members")
  }
}

extension Tokenizer {
  /// A tokenizer from a `tokenizer.json` file (and optionally its `tokenizer_config.json`).
  public convenience init(tokenizerJSON url: URL, config: URL? = nil) throws {
    let attrs = try? FileManager.default.attributesOfItem(atPath: url.path)
    if let size = attrs?[.size] as? Int, size > TokenizerSpec.maxTokenizerJSONBytes {
      throw TokenizerError.tooLarge(what: "tokenizer.json bytes", count: size, limit: TokenizerSpec.maxTokenizerJSONBytes)
    }
    let data: Data
    do { data = try Data(contentsOf: url) } catch { throw TokenizerError.malformedJSON("cannot read \(url.path): \(error)") }
    let cfg: Data? = try config.map { u in
      do { return try Data(contentsOf: u) } catch { throw TokenizerError.malformedJSON("cannot read \(u.path): \(error)") }
    }
    try self.init(TokenizerSpec(tokenizerJSON: data, config: cfg))
  }
}

/// Typed access to `JSONValue`s; every mismatch names its JSON path.
enum J {
  static func parse(_ data: Data) throws -> JSONValue {
    try data.withUnsafeBytes { try JSONParser.parse($0) }
  }

  static func object(_ v: JSONValue?, _ path: String) throws -> JSONObject {
    guard let v else { throw TokenizerError.invalidField(path: path, reason: "missing") }
    guard let o = v.objectValue else { throw TokenizerError.invalidField(path: path, reason: "expected an object") }
    return o
  }

  static func array(_ v: JSONValue?, _ path: String) throws -> [JSONValue] {
    guard let v else { throw TokenizerError.invalidField(path: path, reason: "missing") }
    guard let a = v.arrayValue else { throw TokenizerError.invalidField(path: path, reason: "expected an array") }
    return a
  }

  static func string(_ v: JSONValue?, _ path: String) throws -> String {
    guard let v else { throw TokenizerError.invalidField(path: path, reason: "missing") }
    guard let s = v.stringValue else { throw TokenizerError.invalidField(path: path, reason: "expected a string") }
    return s
  }

  static func optString(_ v: JSONValue?, _ path: String) throws -> String? {
    guard let v, !v.isNull else { return nil }
    return try string(v, path)
  }

  static func optBool(_ v: JSONValue?, _ path: String) throws -> Bool? {
    guard let v, !v.isNull else { return nil }
    guard case .bool(let b) = v else { throw TokenizerError.invalidField(path: path, reason: "expected a boolean") }
    return b
  }

  static func int(_ v: JSONValue?, _ path: String) throws -> Int {
    guard let v else { throw TokenizerError.invalidField(path: path, reason: "missing") }
    guard case .number(let d) = v else { throw TokenizerError.invalidField(path: path, reason: "expected an integer") }
    guard d.isFinite, d == d.rounded(), abs(d) < 1e15 else {
      throw TokenizerError.invalidField(path: path, reason: "expected an integer, got \(d)")
    }
    return Int(d)
  }
}
