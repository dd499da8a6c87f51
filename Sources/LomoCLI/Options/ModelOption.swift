import ArgumentParser
import Foundation
import LomoDistributed
import LomoCore
import LomoKernels
import LomoModel

/// `--model`: the model a command loads (a GGUF file, a Hugging Face folder, or the default).
struct ModelOption: ParsableArguments {
  @Option(help: "A .gguf file, a Hugging Face folder, or '\(ModelSource.defaultName)' (fetched by scripts/setup.sh).")
  var model: String = ModelSource.defaultName

  /// The model with its tokenizer and chat template, its weights stored as `dtype`, its
  /// tensors sharded over `communicator`'s ranks when it has several, or its layers streamed
  /// through a file in `streamingLayersIn`.
  func load(dtype: DType, shardedOver communicator: Communicator = Communicator(),
            streamingLayersIn folder: String? = nil) throws -> LoadedModel {
    try LoadedModel(model, dtype: dtype, shardedOver: communicator, streamingLayersIn: folder)
  }
}

/// `--dtype`: how the weights are stored while a command runs.
struct DTypeOption: ParsableArguments {
  @Option(help: "Weight storage: f32, bf16 or f16 (training in f16 uses dynamic loss scaling). 16-bit weights multiply in \(Runtime.machineProducts) on this CPU (bf16 with AMX or on AMD CPUs with AVX-512 bf16, where it is faster; f32 elsewhere); LOMO_PRODUCTS=bf16|f32 chooses.")
  var dtype: DType = .f32
}

/// `--threads`: the worker threads of oneDNN and lomo's kernels.
struct ThreadsOption: ParsableArguments {
  /// More threads than this is a mistake, not a machine (libgomp crashes on huge counts).
  static let maximum = 1024

  @Option(parsing: .unconditional, help: "Worker threads. (default: all \(Threads.hardwareCount) cores, shared evenly by the ranks of an mpirun job on this machine)")
  var threads: Int?

  var count: Int { threads ?? max(1, Threads.hardwareCount / Communicator.launchedRanksOnThisHost) }

  func validate() throws {
    if let threads, !(1...Self.maximum).contains(threads) {
      throw ValidationError("--threads must be between 1 and \(Self.maximum) (this machine has \(Threads.hardwareCount) cores)")
    }
    if let value = Self.productsVariable, SixteenBitProducts(rawValue: value) == nil {
      throw ValidationError("LOMO_PRODUCTS must be bf16 or f32 (unset: \(Runtime.machineProducts) on this CPU), got '\(value)'")
    }
  }

  /// `LOMO_PRODUCTS`: how 16-bit weights multiply (`SixteenBitProducts`), when set.
  static var productsVariable: String? { ProcessInfo.processInfo.environment["LOMO_PRODUCTS"] }

  /// Sets the thread count of every kernel, and the 16-bit products `LOMO_PRODUCTS` names, for
  /// the rest of the process.
  func apply() {
    Runtime.setThreadCount(count)
    if let products = Self.productsVariable.flatMap(SixteenBitProducts.init(rawValue:)) {
      Runtime.productsOverride = products
    }
  }
}
