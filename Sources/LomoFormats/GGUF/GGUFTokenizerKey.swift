/// The GGUF metadata keys of a tokenizer (llama.cpp's `tokenizer.ggml.*` and
/// `tokenizer.chat_template`), named once for the tokenizer loader (`TokenizerSpec(gguf:)`)
/// and the exporters that read them (`ModelExporter`). The model's own `llama.*` keys are in
/// `LlamaConfig.fields`.
public enum GGUFTokenizerKey {
  /// "gpt2" (byte-level BPE) or "llama" (SentencePiece).
  public static let model = "tokenizer.ggml.model"
  /// The pre-tokenizer name ("smollm", "llama-bpe", ...).
  public static let pre = "tokenizer.ggml.pre"
  public static let tokens = "tokenizer.ggml.tokens"
  public static let scores = "tokenizer.ggml.scores"
  /// llama.cpp's `llama_token_type` of each token.
  public static let tokenType = "tokenizer.ggml.token_type"
  public static let merges = "tokenizer.ggml.merges"
  public static let bosID = "tokenizer.ggml.bos_token_id"
  public static let eosID = "tokenizer.ggml.eos_token_id"
  public static let unknownID = "tokenizer.ggml.unknown_token_id"
  public static let paddingID = "tokenizer.ggml.padding_token_id"
  public static let addBOS = "tokenizer.ggml.add_bos_token"
  public static let addEOS = "tokenizer.ggml.add_eos_token"
  public static let addSpacePrefix = "tokenizer.ggml.add_space_prefix"
  public static let chatTemplate = "tokenizer.chat_template"
}
