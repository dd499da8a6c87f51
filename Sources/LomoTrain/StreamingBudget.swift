import LomoCore
import LomoModel

/// How many layers of a streamed model stay in memory: as many as a budget holds, or by
/// default as many as the machine's available memory leaves after everything else the run
/// needs (`MemoryEstimate` with no layer resident), keeping a tenth of it free.
public enum StreamingBudget {
  /// `budgetBytes` (of layer weights) when given, else the default from `availableBytes`;
  /// at least 1 (2 for the default, so that the next layer reads while one computes), at
  /// most every layer. Throws when a given budget holds no whole layer.
  public static func residentLayers(
    config: LlamaConfig, dtype: DType, withoutLayers: MemoryEstimate, budgetBytes: Int?,
    availableBytes: Int? = MachineMemory.availableBytes
  ) throws(TrainingError) -> Int {
    let layerBytes = max(1, StreamedLayers.layerBytes(config: config, dtype: dtype))
    if let budgetBytes {
      guard budgetBytes >= layerBytes else {
        throw TrainingError.invalidOptions(["--stream-budget \(Format.bytes(budgetBytes)) holds no layer: one layer of this model is \(Format.bytes(layerBytes)) in \(dtype)"])
      }
      return min(config.layers, budgetBytes / layerBytes)
    }
    guard let availableBytes else { return min(config.layers, 2) }
    let left = availableBytes - availableBytes / 10 - withoutLayers.processBytes
    return min(config.layers, max(2, left / layerBytes))
  }
}
