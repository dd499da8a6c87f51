import LomoCore

/// Errors from building a tokenizer or reading a tokenizer file. Each names what was wrong and where.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
  /// The file is not valid JSON, or not the shape a tokenizer.json has.
  case malformedJSON(String)
  /// A field has the wrong type or a value out of range; `path` is a JSON-path-like location.
  case invalidField(path: String, reason: String)
  /// A model or pre-tokenizer this library does not implement.
  case unsupported(String)
  /// A merge names a token that is not in the vocabulary, or is not of the form "a b".
  case invalidMerge(index: Int, merge: String, reason: String)
  /// A special token id is outside the vocabulary.
  case tokenIdOutOfRange(name: String, id: Int, vocabSize: Int)
  /// A size exceeds what this library accepts (a corrupt or hostile file).
  case tooLarge(what: String, count: Int, limit: Int)
  /// Two parallel arrays (tokens and scores, tokens and types) differ in length.
  case lengthMismatch(what: String, expected: Int, got: Int)
  /// The vocabulary is empty, or lacks something the model needs (a byte token, the unknown token).
  case invalidVocabulary(String)

  /// One line; text from the file (paths, merges, names, reasons quoting tokens) is shown
  /// through `Format.excerpt`, bounded and with control characters escaped.
  public var description: String {
    func shown(_ text: String) -> String { Format.excerpt(text, limit: 160) }
    return switch self {
    case .malformedJSON(let m): "tokenizer: malformed JSON: \(shown(m))"
    case .invalidField(let p, let r): "tokenizer: field \(shown(p)): \(shown(r))"
    case .unsupported(let m): "tokenizer: unsupported: \(shown(m))"
    case .invalidMerge(let i, let m, let r): "tokenizer: merge #\(i) \(shown(m.debugDescription)): \(shown(r))"
    case .tokenIdOutOfRange(let n, let id, let v): "tokenizer: \(shown(n)) id \(id) outside vocabulary of \(v)"
    case .tooLarge(let w, let c, let l): "tokenizer: \(w) count \(c) exceeds limit \(l)"
    case .lengthMismatch(let w, let e, let g): "tokenizer: \(w): expected \(e) entries, got \(g)"
    case .invalidVocabulary(let m): "tokenizer: invalid vocabulary: \(shown(m))"
    }
  }
}

/// A tokenizer that cannot be read from a file: the file (`tokenizer.json`,
/// `tokenizer_config.json` or the GGUF) and the problem in it.
public struct TokenizerFileError: Error, Equatable, CustomStringConvertible {
  public let path: String
  public let error: TokenizerError

  public init(path: String, error: TokenizerError) {
    self.path = path
    self.error = error
  }

  public var description: String { "\(path): \(error)" }
}

/// Token kinds, numbered as llama.cpp's `llama_token_type` (GGUF `tokenizer.ggml.token_type`).
public enum TokenType: Int32, Sendable {
  case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

/// The splitting applied to text before BPE. Each case names the regex it implements by hand.
public enum PreTokenizer: String, Sendable, CaseIterable {
  /// No splitting: each run of text between added tokens is one word (SentencePiece).
  case none
  /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
  case gpt2
  /// SmolLM / StarCoder: every digit is its own piece (`\p{N}`), then the GPT-2 pattern.
  case smollm
  /// LLaMA 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
  /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
  case llama3
  /// Qwen2: as LLaMA 3 but `\p{N}` (single digits).
  case qwen2

  /// The pre-tokenizer llama.cpp's `tokenizer.ggml.pre` names; nil for one not implemented.
  public init?(ggufPre: String) {
    switch ggufPre {
    case "default", "gpt-2", "gpt2": self = .gpt2
    case "smollm", "starcoder", "refact", "codeshell": self = .smollm
    case "llama3", "llama-v3", "llama-bpe", "smaug-bpe", "dbrx", "falcon3": self = .llama3
    case "qwen2", "deepseek-r1-qwen": self = .qwen2
    default: return nil
    }
  }
}

/// A token matched whole in the raw text before pre-tokenization (Hugging Face "added tokens").
public struct AddedToken: Sendable, Equatable {
  public var id: Int32
  public var content: String
  /// Special tokens are skipped by `decode(skipSpecial: true)` and matched only when
  /// `encode(parseSpecial: true)` (the default, as in Hugging Face).
  public var special: Bool
  /// Absorb whitespace to the left / right of the match.
  public var lstrip: Bool
  public var rstrip: Bool

  public init(id: Int32, content: String, special: Bool, lstrip: Bool = false, rstrip: Bool = false) {
    self.id = id
    self.content = content
    self.special = special
    self.lstrip = lstrip
    self.rstrip = rstrip
  }
}

public struct MergePair: Sendable, Equatable {
  public var left: String
  public var right: String
  public init(_ left: String, _ right: String) {
    self.left = left
    self.right = right
  }
}

/// Everything a tokenizer is built from, as plain data (from GGUF metadata or a tokenizer.json).
public struct TokenizerSpec: Sendable {
  public enum Model: Sendable, Equatable {
    /// GPT-2 byte-level BPE: bytes mapped to printable unicode characters, merges by rank.
    case bytePairGPT2
    /// SentencePiece-style BPE: spaces become "▁", characters not in the vocabulary fall back
    /// to `<0xXX>` byte tokens.
    case sentencePieceBPE
  }

  /// How merges are ranked for a SentencePiece vocabulary that lists none.
  public enum MergeOrder: Sendable, Equatable {
    /// Higher token score first (llama.cpp; Hugging Face's conversion of LLaMA vocabularies).
    case byScore
    /// Lower token id first (Hugging Face's conversion of Gemma vocabularies).
    case byTokenIndex
  }

  /// When SentencePiece adds "▁" in front of the text.
  public enum SpacePrefix: Sendable, Equatable {
    case never
    /// Only in front of the first piece of text (Metaspace `prepend_scheme: first`).
    case first
    /// In front of every run of text between added tokens (legacy `Prepend` normalizer).
    case always
  }

  public var model: Model
  public var tokens: [String]
  public var scores: [Float]?
  public var types: [TokenType]?
  /// "left right" pairs in rank order (rank 0 first). Nil for SentencePiece: derived from the vocabulary.
  public var merges: [String]?
  /// Merges as (left, right) pairs, for vocabularies whose tokens contain spaces (tokenizer.json
  /// pair form); used instead of `merges` when set.
  public var mergePairs: [MergePair]?
  public var preTokenizer: PreTokenizer
  public var addedTokens: [AddedToken]
  public var bosID: Int32?
  public var eosID: Int32?
  public var unkID: Int32?
  public var padID: Int32?
  public var addBOS: Bool
  public var addEOS: Bool
  public var spacePrefix: SpacePrefix
  public var mergeOrder: MergeOrder
  /// Byte fallback to `<0xXX>` tokens (SentencePiece).
  public var byteFallback: Bool
  /// A word that is itself in the vocabulary is taken whole, without merging (HF `ignore_merges`).
  public var ignoreMerges: Bool
  /// Consecutive unknown symbols become one unknown token (HF `fuse_unk`).
  public var fuseUnknown: Bool
  /// Decoding strips the one leading space the prefix added.
  public var stripDecodedPrefixSpace: Bool
  /// Text between added tokens is put in Unicode NFC first (HF's `NFC` normalizer: Qwen2).
  public var normalizesNFC = false
  /// The Jinja chat template the file carries (GGUF `tokenizer.chat_template`), if any.
  public var chatTemplate: String?

  public init(
    model: Model, tokens: [String], scores: [Float]? = nil, types: [TokenType]? = nil,
    merges: [String]? = nil, preTokenizer: PreTokenizer = .none, addedTokens: [AddedToken]? = nil,
    bosID: Int32? = nil, eosID: Int32? = nil, unkID: Int32? = nil, padID: Int32? = nil,
    addBOS: Bool = false, addEOS: Bool = false, spacePrefix: SpacePrefix = .never,
    mergeOrder: MergeOrder = .byScore, byteFallback: Bool? = nil, ignoreMerges: Bool = false,
    fuseUnknown: Bool? = nil, stripDecodedPrefixSpace: Bool? = nil
  ) {
    self.model = model
    self.tokens = tokens
    self.scores = scores
    self.types = types
    self.merges = merges
    self.preTokenizer = preTokenizer
    self.bosID = bosID
    self.eosID = eosID
    self.unkID = unkID
    self.padID = padID
    self.addBOS = addBOS
    self.addEOS = addEOS
    self.spacePrefix = spacePrefix
    self.mergeOrder = mergeOrder
    self.byteFallback = byteFallback ?? (model == .sentencePieceBPE)
    self.ignoreMerges = ignoreMerges
    self.fuseUnknown = fuseUnknown ?? (model == .sentencePieceBPE)
    self.stripDecodedPrefixSpace = stripDecodedPrefixSpace ?? (spacePrefix != .never)
    self.addedTokens = addedTokens ?? TokenizerSpec.addedTokens(model: model, tokens: tokens, types: types)
  }

  /// Added tokens as Hugging Face derives them from GGUF token types: control tokens are special,
  /// user-defined ones are plain added tokens. In a byte-level vocabulary a control token spelled
  /// outside the byte alphabet is a mislabel and is left out.
  public static func addedTokens(model: Model, tokens: [String], types: [TokenType]?) -> [AddedToken] {
    guard let types, types.count == tokens.count else { return [] }
    var out: [AddedToken] = []
    for (i, t) in tokens.enumerated() where !t.isEmpty {
      switch types[i] {
      case .control:
        if model == .bytePairGPT2 && !t.unicodeScalars.allSatisfy({ ByteLevel.isInAlphabet($0) }) { continue }
        out.append(AddedToken(id: Int32(i), content: t, special: true))
      case .userDefined:
        out.append(AddedToken(id: Int32(i), content: t, special: false))
      default: continue
      }
    }
    return out
  }
}
