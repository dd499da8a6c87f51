import LomoCore

/// The tensors a model file holds (name → shape), checked against what a `LlamaConfig`
/// implies before any parameter is allocated: every tensor the config needs exists with
/// exactly its shape, and every tensor of the file is one of them (or `ignored`). Both
/// loaders call `check` first, so a config that claims more (or fewer) layers, a wider model
/// or a larger vocabulary than the file holds is an error naming the file, the tensor and the
/// config fields, never an allocation sized from a corrupt header.
struct TensorInventory {
  /// The model file, named in errors.
  let path: String
  let shapes: [String: [Int]]
  /// The name of a parameter in this format (`ParameterID.ggufName` or `.description`).
  let name: (ParameterID) -> String
  /// The config field name of a `LlamaConfig` field in this format, as errors show it
  /// (`llama.block_count`, `num_hidden_layers`).
  let fieldName: (LlamaConfigField) -> String
  /// The layer a tensor name belongs to (`blk.7.` or `model.layers.7.`), nil for others.
  let layer: (String) -> Int?
  /// Tensors the loader may leave unread (a stored `lm_head.weight` of a tied model).
  let ignored: (String) -> Bool

  /// Throws `ModelLoadError` for a `config` with problems (named as this format names its
  /// fields), then for the first tensor that is missing, has another shape, or is not part of
  /// the model `config` describes. The config check comes first: within its bounds
  /// `ParameterID.all(for:)` holds at most a few thousand names and no shape overflows.
  func check(_ config: LlamaConfig) throws(ModelLoadError) {
    if let e = config.invalidity(path: path, fieldName: fieldName) { throw e }
    let layersField = field(\.layers)
    let expected = ParameterID.all(for: config)
    var names = Set<String>()
    for id in expected {
      let tensor = name(id)
      names.insert(tensor)
      let implied = id.shape(in: config)
      guard let found = shapes[tensor] else {
        throw ModelLoadError(path: path, problem: "no tensor '\(tensor)', which the config needs (\(cause(of: id, config)))" + layerHint(config, layersField))
      }
      guard found == implied else {
        throw ModelLoadError(
          path: path,
          problem: "tensor '\(tensor)' has shape \(found), the config implies \(implied) (\(cause(of: id, config))); "
            + "the config and the weights do not belong together")
      }
    }
    let extra = shapes.keys.filter { !names.contains($0) && !ignored($0) }.sorted()
    if let deepest = extra.compactMap(layer).max(), deepest >= config.layers {
      throw ModelLoadError(
        path: path,
        problem: "the weights have tensors of \(deepest + 1) layers (up to layer \(deepest)) but \(layersField) is "
          + "\(config.layers); set \(layersField) to \(deepest + 1) (or remove the extra layers' tensors)")
    }
    if let first = extra.first {
      throw ModelLoadError(
        path: path,
        problem: "tensor '\(Format.excerpt(first))' is not part of a LLaMA model of this config"
          + (extra.count > 1 ? " (nor are \(extra.count - 1) more)" : "") + "; lomo loads every tensor of a file or none")
    }
  }

  /// The config fields a parameter's shape comes from, with their values.
  private func cause(of id: ParameterID, _ c: LlamaConfig) -> String {
    let paths: [WritableKeyPath<LlamaConfig, Int>]
    switch id {
    case .embedding, .lmHead: paths = [\.vocabSize, \.hiddenSize]
    case .finalNorm, .layer(_, .attentionNorm), .layer(_, .mlpNorm), .layer(_, .postAttentionNorm), .layer(_, .postMLPNorm):
      paths = [\.hiddenSize]
    case .layer(_, .query), .layer(_, .output): paths = [\.hiddenSize, \.heads, \.headDim]
    case .layer(_, .key), .layer(_, .value): paths = [\.hiddenSize, \.kvHeads, \.headDim]
    case .layer(_, .queryBias): paths = [\.heads, \.headDim]
    case .layer(_, .keyBias), .layer(_, .valueBias): paths = [\.kvHeads, \.headDim]
    case .layer(_, .queryNorm), .layer(_, .keyNorm): paths = [\.headDim]
    case .layer(_, .gate), .layer(_, .up), .layer(_, .down): paths = [\.hiddenSize, \.intermediateSize]
    }
    var parts = paths.map { "\(field($0)) \(c[keyPath: $0])" }
    if case .layer = id { parts.insert("\(field(\.layers)) \(c.layers)", at: 0) }
    return parts.joined(separator: ", ")
  }

  /// For a missing layer tensor: how many layers the file does hold.
  private func layerHint(_ c: LlamaConfig, _ layersField: String) -> String {
    guard let held = shapes.keys.compactMap(layer).max(), held + 1 < c.layers else { return "" }
    return "; the file holds tensors of \(held + 1) layers, set \(layersField) to match the weights"
  }

  private func field(_ path: WritableKeyPath<LlamaConfig, Int>) -> String {
    LlamaConfig.field(path).map(fieldName) ?? "\(path)"
  }

  /// The layer number after `prefix` in a tensor name (`blk.` + digits + `.`), nil when the
  /// name does not start so or the number does not fit.
  static func layer(of tensor: String, prefix: String) -> Int? {
    guard tensor.hasPrefix(prefix) else { return nil }
    let digits = tensor.dropFirst(prefix.count).prefix { $0.isASCII && $0.isNumber }
    guard !digits.isEmpty, digits.count <= 9, tensor.dropFirst(prefix.count + digits.count).first == "." else { return nil }
    return Int(digits)
  }
}
