import Foundation
import LomoCore

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
  /// Paths in errors start at `$` (tokenizer.json) or `tokenizer_config`.
  public init(tokenizerJSON data: Data, config: Data? = nil) throws {
    guard data.count <= TokenizerSpec.maxTokenizerJSONBytes else {
      throw TokenizerError.tooLarge(what: "tokenizer.json bytes", count: data.count, limit: TokenizerSpec.maxTokenizerJSONBytes)
    }
    do {
      self = try Self.read(tokenizerJSON: data, config: config)
    } catch let e as JSONError {
      throw TokenizerError(e)
    }
  }

  private static func read(tokenizerJSON data: Data, config: Data?) throws -> TokenizerSpec {
    let root = JSONField(try JSONValue(parsing: data), path: "$")
    _ = try root.object()
    let model = root["model"]
    _ = try model.object()
    let type = try model["type"].ifPresent?.string() ?? "BPE"
    guard type == "BPE" else { throw TokenizerError.unsupported("model type \(type.debugDescription) (only BPE)") }
    for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
      if let v = try model[key].ifPresent?.string(), !v.isEmpty {
        throw TokenizerError.unsupported("model.\(key) \(v.debugDescription)")
      }
    }

    // Vocabulary: token -> id, dense after added tokens are placed.
    let vocab = try model["vocab"].members()
    guard vocab.count <= Tokenizer.maxVocabulary else {
      throw TokenizerError.tooLarge(what: "vocab", count: vocab.count, limit: Tokenizer.maxVocabulary)
    }
    var byID: [Int: String] = [:]
    byID.reserveCapacity(vocab.count)
    for (tok, v) in vocab {
      let id = try v.integer()
      guard id >= 0 && id < Tokenizer.maxVocabulary else {
        throw TokenizerError.invalidField(path: v.path, reason: "id \(id) out of range")
      }
      byID[id] = tok
    }
    var added: [AddedToken] = []
    if let list = root["added_tokens"].ifPresent {
      let arr = try list.array()
      guard arr.count <= Tokenizer.maxVocabulary else {
        throw TokenizerError.tooLarge(what: "added_tokens", count: arr.count, limit: Tokenizer.maxVocabulary)
      }
      for o in arr {
        _ = try o.object()
        let id = try o["id"].integer()
        guard id >= 0 && id < Tokenizer.maxVocabulary else {
          throw TokenizerError.invalidField(path: o["id"].path, reason: "id \(id) out of range")
        }
        let content = try o["content"].string()
        guard !content.isEmpty else { throw TokenizerError.invalidField(path: o["content"].path, reason: "empty") }
        if let existing = byID[id], !existing.utf8.elementsEqual(content.utf8) {
          throw TokenizerError.invalidField(path: o.path, reason: "id \(id) is \(existing.debugDescription) in the vocabulary")
        }
        byID[id] = content
        added.append(AddedToken(
          id: Int32(id), content: content, special: try o["special"].ifPresent?.bool() ?? false,
          lstrip: try o["lstrip"].ifPresent?.bool() ?? false,
          rstrip: try o["rstrip"].ifPresent?.bool() ?? false))
      }
    }
    guard let maxID = byID.keys.max() else { throw TokenizerError.invalidVocabulary("empty vocab") }
    var tokens = [String](repeating: "", count: maxID + 1)
    for (id, t) in byID { tokens[id] = t }
    let index = VocabIndex(tokens)

    // Merges: "a b" strings, or [a, b] pairs.
    var merges: [MergePair] = []
    if let m = model["merges"].ifPresent {
      let arr = try m.array()
      guard arr.count <= Tokenizer.maxMerges else {
        throw TokenizerError.tooLarge(what: "merges", count: arr.count, limit: Tokenizer.maxMerges)
      }
      merges.reserveCapacity(arr.count)
      for (k, field) in arr.enumerated() {
        let item = field.value ?? .null
        if let s = item.stringValue {
          let parts = s.utf8.split(separator: 0x20, omittingEmptySubsequences: false)
          guard parts.count == 2, let a = String(parts[0]), let b = String(parts[1]) else {
            throw TokenizerError.invalidMerge(index: k, merge: s, reason: "not of the form \"left right\"")
          }
          merges.append(MergePair(a, b))
        } else if let pair = item.arrayValue, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue {
          merges.append(MergePair(a, b))
        } else {
          throw TokenizerError.invalidField(path: field.path, reason: "expected \"a b\" or [a, b]")
        }
      }
    }

    // Pre-tokenizer and normaliser decide the model family.
    let pre = try TokenizerSpec.components(root["pre_tokenizer"])
    let norm = try TokenizerSpec.components(root["normalizer"])
    let dec = try TokenizerSpec.components(root["decoder"])
    let preTypes = pre.map { $0["type"].value?.stringValue ?? "?" }
    let modelKind: Model
    var preTokenizer = PreTokenizer.none
    var spacePrefix = SpacePrefix.never
    var normalizesNFC = false
    if preTypes.contains("ByteLevel") {
      modelKind = .bytePairGPT2
      for n in norm {
        guard n["type"].value?.stringValue == "NFC" else {
          throw TokenizerError.unsupported("normalizer \(n["type"].value?.stringValue ?? "?") with a byte-level BPE")
        }
        normalizesNFC = true
      }
      let bl = pre.first { $0["type"].value?.stringValue == "ByteLevel" }!
      if try bl["add_prefix_space"].ifPresent?.bool() == true {
        throw TokenizerError.unsupported("ByteLevel add_prefix_space = true")
      }
      let useRegex = try bl["use_regex"].ifPresent?.bool() ?? true
      let others = pre.filter { $0["type"].value?.stringValue != "ByteLevel" }
      if useRegex {
        preTokenizer = .gpt2
        if others.count == 1, others[0]["type"].value?.stringValue == "Digits",
          try others[0]["individual_digits"].ifPresent?.bool() == true
        {
          preTokenizer = .smollm
        } else if !others.isEmpty {
          throw TokenizerError.unsupported("pre-tokenizer sequence \(preTypes)")
        }
      } else {
        guard others.count == 1, others[0]["type"].value?.stringValue == "Split",
          let pat = others[0]["pattern"]["Regex"].value?.stringValue
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
        switch n["type"].value?.stringValue {
        case "Replace":
          let pat = n["pattern"]["String"].value?.stringValue
          guard pat == " ", n["content"].value?.stringValue == "\u{2581}" else {
            throw TokenizerError.unsupported("normalizer Replace other than \" \" -> \"▁\"")
          }
          replacesSpace = true
        case "Prepend":
          guard n["prepend"].value?.stringValue == "\u{2581}" else { throw TokenizerError.unsupported("normalizer Prepend") }
          spacePrefix = .always
        default:
          throw TokenizerError.unsupported("normalizer \(n["type"].value?.stringValue ?? "?")")
        }
      }
      for p in pre {
        switch p["type"].value?.stringValue {
        case "Metaspace":
          replacesSpace = true
          if try p["split"].ifPresent?.bool() == true {
            throw TokenizerError.unsupported("Metaspace split = true")
          }
          switch p["prepend_scheme"].value?.stringValue {
          case "first": spacePrefix = .first
          case "always": spacePrefix = .always
          case "never": spacePrefix = .never
          default:
            spacePrefix = (try p["add_prefix_space"].ifPresent?.bool() ?? true) ? .always : .never
          }
        case "Split" where replacesSpace:
          // Gemma splits on " " after the normaliser has replaced every space: a no-op.
          guard p["pattern"]["String"].value?.stringValue == " " else {
            throw TokenizerError.unsupported("pre-tokenizer Split in a SentencePiece tokenizer")
          }
        default:
          throw TokenizerError.unsupported("pre-tokenizer \(p["type"].value?.stringValue ?? "?")")
        }
      }
      guard replacesSpace else {
        throw TokenizerError.unsupported("BPE with neither ByteLevel nor a \"▁\" normaliser / Metaspace")
      }
    }
    let decTypes = dec.map { $0["type"].value?.stringValue ?? "?" }
    let strip = decTypes.contains("Strip") || (decTypes.contains("Metaspace") && spacePrefix != .never)

    // Special ids: unk from the model, bos/eos from the post-processor template or the config.
    var unkID: Int32?
    if let u = try model["unk_token"].ifPresent?.string() {
      guard let id = index.id(u) else { throw TokenizerError.invalidField(path: model["unk_token"].path, reason: "\(u.debugDescription) not in vocab") }
      unkID = id
    }
    var bosID: Int32?, eosID: Int32?, padID: Int32?
    var addBOS = false, addEOS = false
    if let post = root["post_processor"].value?.objectValue, post["type"]?.stringValue == "TemplateProcessing",
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
      let parsed: JSONValue
      do { parsed = try JSONValue(parsing: config) } catch {
        throw TokenizerError.malformedJSON("\(TokenizerError.configPrefix): \(error.reason)")
      }
      let c = JSONField(parsed, path: TokenizerError.configPrefix)
      _ = try c.object()
      func tokenID(_ key: String) throws -> Int32? {
        guard let v = c[key].ifPresent else { return nil }
        let s = try v.value?.objectValue != nil ? v["content"].string() : v.string()
        guard let id = index.id(s) else { throw TokenizerError.invalidField(path: v.path, reason: "\(s.debugDescription) not in vocab") }
        return id
      }
      bosID = try bosID ?? tokenID("bos_token")
      eosID = try eosID ?? tokenID("eos_token")
      padID = try tokenID("pad_token")
      if unkID == nil { unkID = try tokenID("unk_token") }
      if let b = try c["add_bos_token"].ifPresent?.bool(), !root["post_processor"].isPresent {
        addBOS = b && bosID != nil
      }
    }

    var spec = TokenizerSpec(
      model: modelKind, tokens: tokens, merges: nil,
      preTokenizer: preTokenizer, addedTokens: added, bosID: bosID, eosID: eosID, unkID: unkID, padID: padID,
      addBOS: addBOS, addEOS: addEOS, spacePrefix: spacePrefix,
      byteFallback: try model["byte_fallback"].ifPresent?.bool() ?? false,
      ignoreMerges: try model["ignore_merges"].ifPresent?.bool() ?? false,
      fuseUnknown: try model["fuse_unk"].ifPresent?.bool() ?? false,
      stripDecodedPrefixSpace: strip)
    if modelKind == .bytePairGPT2 || !merges.isEmpty { spec.mergePairs = merges }
    spec.normalizesNFC = normalizesNFC
    return spec
  }

  /// A component or the members of a `Sequence` component (`pretokenizers`, `normalizers`, `decoders`).
  static func components(_ v: JSONField) throws -> [JSONField] {
    guard v.isPresent else { return [] }
    let o = try v.object()
    guard o["type"]?.stringValue == "Sequence" else { return [v] }
    for key in ["pretokenizers", "normalizers", "decoders", "processors"] where o[key] != nil {
      return try v[key].array().flatMap(components)
    }
    throw TokenizerError.invalidField(path: v.path, reason: "Sequence without members")
  }
}

extension Tokenizer {
  /// A tokenizer from a `tokenizer.json` file (and optionally its `tokenizer_config.json`).
  /// Every error is a `TokenizerFileError` naming the file it comes from.
  public convenience init(tokenizerJSON url: URL, config: URL? = nil) throws(TokenizerFileError) {
    func read(_ u: URL) throws(TokenizerFileError) -> Data {
      do { return try Data(contentsOf: u) } catch {
        throw TokenizerFileError(path: u.path, error: .malformedJSON("cannot read the file: \(error.localizedDescription)"))
      }
    }
    let attrs = try? FileManager.default.attributesOfItem(atPath: url.path)
    if let size = attrs?[.size] as? Int, size > TokenizerSpec.maxTokenizerJSONBytes {
      throw TokenizerFileError(
        path: url.path, error: .tooLarge(what: "tokenizer.json bytes", count: size, limit: TokenizerSpec.maxTokenizerJSONBytes))
    }
    let data = try read(url)
    let cfg = try config.map { u throws(TokenizerFileError) in try read(u) }
    do { try self.init(TokenizerSpec(tokenizerJSON: data, config: cfg)) } catch {
      let e = error as? TokenizerError ?? .malformedJSON("\(error)")
      throw TokenizerFileError(path: e.isFromConfig ? config?.path ?? url.path : url.path, error: e)
    }
  }
}

extension TokenizerError {
  /// A JSON syntax error as `.malformedJSON`, any other as `.invalidField` at its path.
  init(_ e: JSONError) {
    if case .syntax = e.problem { self = .malformedJSON(e.reason) } else { self = .invalidField(path: e.path, reason: e.reason) }
  }

  /// Where paths into `tokenizer_config.json` start (tokenizer.json's start at `$`).
  static let configPrefix = "tokenizer_config"

  /// The problem lies in `tokenizer_config.json`, not in `tokenizer.json`.
  var isFromConfig: Bool {
    switch self {
    case .invalidField(let path, _): path.hasPrefix(Self.configPrefix)
    case .malformedJSON(let m): m.hasPrefix(Self.configPrefix + ":")
    default: false
    }
  }
}
