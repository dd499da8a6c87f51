import LomoFormats

/// Building a spec from GGUF tokenizer metadata, following Hugging Face's GGUF conversion
/// (`transformers.integrations.gguf`), so ids match what `AutoTokenizer(gguf_file:)` gives.
/// `fromGGUFMetadata` takes plain values; `init(gguf:)` reads them from a `GGUFFile`.
extension TokenizerSpec {
  /// - Parameters:
  ///   - architecture: `general.architecture` ("llama", "gemma3", ...).
  ///   - model: `tokenizer.ggml.model` ("gpt2" or "llama").
  ///   - pre: `tokenizer.ggml.pre`.
  ///   - tokenTypes: `tokenizer.ggml.token_type` as raw llama.cpp numbers.
  public static func fromGGUFMetadata(
    architecture: String, model: String, pre: String?, tokens: [String], scores: [Float]?, tokenTypes: [Int32]?,
    merges: [String]?, bosID: Int?, eosID: Int?, unkID: Int?, padID: Int?,
    addBOS: Bool?, addEOS: Bool?, addSpacePrefix: Bool?
  ) throws -> TokenizerSpec {
    guard tokens.count <= Tokenizer.maxVocabulary else {
      throw TokenizerError.tooLarge(what: "tokens", count: tokens.count, limit: Tokenizer.maxVocabulary)
    }
    var types: [TokenType]?
    if let tokenTypes {
      guard tokenTypes.count == tokens.count else {
        throw TokenizerError.lengthMismatch(what: "token types", expected: tokens.count, got: tokenTypes.count)
      }
      types = try tokenTypes.enumerated().map { i, t in
        guard let k = TokenType(rawValue: t) else {
          throw TokenizerError.invalidField(path: "\(GGUFTokenizerKey.tokenType)[\(i)]", reason: "unknown type \(t)")
        }
        return k
      }
    }
    func id(_ v: Int?, _ name: String) throws -> Int32? {
      guard let v else { return nil }
      guard v >= 0 && v < tokens.count else { throw TokenizerError.tokenIdOutOfRange(name: name, id: v, vocabSize: tokens.count) }
      return Int32(v)
    }
    switch model {
    case "gpt2":
      // Tokens spelled outside the byte alphabet are respelled into it, as HF does.
      let respelled = tokens.map { t in
        t.unicodeScalars.allSatisfy(ByteLevel.isInAlphabet) ? t : ByteLevel.encode(Array(t.utf8))
      }
      let preTok = pre.flatMap { PreTokenizer(ggufPre: $0) } ?? .gpt2
      guard let merges else { throw TokenizerError.invalidVocabulary("gpt2 vocabulary without tokenizer.ggml.merges") }
      return TokenizerSpec(
        model: .bytePairGPT2, tokens: respelled, scores: scores, types: types, merges: merges, preTokenizer: preTok,
        addedTokens: TokenizerSpec.addedTokens(model: .bytePairGPT2, tokens: tokens, types: types),
        bosID: try id(bosID, "bos"), eosID: try id(eosID, "eos"), unkID: try id(unkID, "unk"), padID: try id(padID, "pad"),
        addBOS: addBOS ?? false, addEOS: addEOS ?? false)
    case "llama":
      let isGemma = ["gemma", "gemma2", "gemma3"].contains(architecture)
      var toks = tokens
      var added = TokenizerSpec.addedTokens(model: .sentencePieceBPE, tokens: tokens, types: types)
      if isGemma {
        // Gemma stores tokens of two or more spaces as spaces; the model looks them up as "▁▁".
        var respelledIDs = Set<Int32>()
        for (i, t) in toks.enumerated() where t.unicodeScalars.contains(" ") && t.unicodeScalars.allSatisfy({ $0 == " " }) {
          toks[i] = String(repeating: "\u{2581}", count: t.unicodeScalars.count)
          respelledIDs.insert(Int32(i))
        }
        added.removeAll { respelledIDs.contains($0.id) }
      }
      if let s = scores, s.count != tokens.count {
        throw TokenizerError.lengthMismatch(what: "scores", expected: tokens.count, got: s.count)
      }
      let prefix = addSpacePrefix ?? !isGemma
      return TokenizerSpec(
        model: .sentencePieceBPE, tokens: toks, scores: scores, types: types, merges: merges, preTokenizer: .none,
        addedTokens: added, bosID: try id(bosID, "bos"), eosID: try id(eosID, "eos"), unkID: try id(unkID, "unk"),
        padID: try id(padID, "pad"), addBOS: addBOS ?? true, addEOS: addEOS ?? false,
        spacePrefix: prefix ? .first : .never, mergeOrder: isGemma ? .byTokenIndex : .byScore,
        byteFallback: true, fuseUnknown: true)
    default:
      throw TokenizerError.unsupported("\(GGUFTokenizerKey.model) \(model.debugDescription)")
    }
  }
}

extension TokenizerSpec {
  /// The tokenizer a GGUF file describes (`tokenizer.ggml.*` and `tokenizer.chat_template`).
  /// Missing or mistyped keys throw `GGUFError` naming the file and key; inconsistent values
  /// throw `TokenizerError`.
  public init(gguf: GGUFFile) throws {
    let m = gguf.metadata
    func opt<T>(_ key: String, _ read: (String) throws(GGUFError) -> T) throws -> T? {
      m.contains(key) ? try read(key) : nil
    }
    let tokens = try m.stringArray(GGUFTokenizerKey.tokens)
    var types: [Int32]?
    if let raw = try opt(GGUFTokenizerKey.tokenType, m.intArray) {
      types = try raw.enumerated().map { i, t in
        guard let v = Int32(exactly: t) else {
          throw TokenizerError.invalidField(path: "\(GGUFTokenizerKey.tokenType)[\(i)]", reason: "unknown type \(t)")
        }
        return v
      }
    }
    var spec = try TokenizerSpec.fromGGUFMetadata(
      architecture: try opt("general.architecture", m.string) ?? "",
      model: try m.string(GGUFTokenizerKey.model),
      pre: try opt(GGUFTokenizerKey.pre, m.string),
      tokens: tokens,
      scores: try opt(GGUFTokenizerKey.scores, m.floatArray),
      tokenTypes: types,
      merges: try opt(GGUFTokenizerKey.merges, m.stringArray),
      bosID: try opt(GGUFTokenizerKey.bosID, m.int),
      eosID: try opt(GGUFTokenizerKey.eosID, m.int),
      unkID: try opt(GGUFTokenizerKey.unknownID, m.int),
      padID: try opt(GGUFTokenizerKey.paddingID, m.int),
      addBOS: try opt(GGUFTokenizerKey.addBOS, m.bool),
      addEOS: try opt(GGUFTokenizerKey.addEOS, m.bool),
      addSpacePrefix: try opt(GGUFTokenizerKey.addSpacePrefix, m.bool))
    spec.chatTemplate = try opt(GGUFTokenizerKey.chatTemplate, m.string)
    self = spec
  }
}

extension Tokenizer {
  /// The tokenizer of a GGUF file. Missing or mistyped keys throw `GGUFError`; inconsistent
  /// values a `TokenizerFileError` naming the file.
  public convenience init(gguf: GGUFFile) throws {
    do { try self.init(TokenizerSpec(gguf: gguf)) } catch let e as TokenizerError {
      throw TokenizerFileError(path: gguf.path, error: e)
    }
  }

  /// The chat template the vocabulary came with (`tokenizer.chat_template` of the GGUF file at
  /// `path`), parsed, or the reason it cannot be used; nil when the file has none.
  public func chatTemplate(ggufPath path: String) -> LoadedChatTemplate? {
    spec.chatTemplate.map {
      ChatTemplate.load($0, source: "\(path): \(GGUFTokenizerKey.chatTemplate)", bosToken: bosToken, eosToken: eosToken)
    }
  }
}
