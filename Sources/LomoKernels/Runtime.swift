import CDNNL
import LomoCore
import Synchronization

/// Process-wide kernel settings.
public enum Runtime {
  /// Sets the worker threads of lomo's own kernels and of oneDNN's OpenMP runtime.
  /// - Precondition: `n >= 1`.
  public static func setThreadCount(_ n: Int) {
    Threads.setCount(n)
    omp_set_num_threads(Int32(n))
  }

  private static let productsSetting = Mutex<SixteenBitProducts?>(nil)

  /// How the model multiplies 16-bit weights with many activation rows: the override, else
  /// `machineProducts`.
  public static var sixteenBitProducts: SixteenBitProducts { productsOverride ?? machineProducts }

  /// The choice of `LOMO_PRODUCTS` (or a test); nil: this machine's.
  public static var productsOverride: SixteenBitProducts? {
    get { productsSetting.withLock { $0 } }
    set { productsSetting.withLock { $0 = newValue } }
  }

  /// bf16 where this CPU multiplies bf16 faster than f32: with AMX (as oneDNN detects it), or
  /// an AMD CPU with AVX-512 bf16 (a Zen 5 measured 956 GFLOP/s in oneDNN's bf16 matmul against
  /// 526 for an f32 FMA loop); f32 elsewhere. An Intel Xeon VM with AVX-512 bf16 but no AMX
  /// measured 165 GFLOP/s bf16 against 342 f32 (PyTorch 2.13's matmul there: about 145
  /// against 215; 2026-12-04), where widening the weights makes a bf16 step a third faster.
  public static let machineProducts: SixteenBitProducts = {
    let isa = dnnl_get_effective_cpu_isa().rawValue
    let amx = dnnl_cpu_isa_avx512_core_amx.rawValue, bf16 = dnnl_cpu_isa_avx512_core_bf16.rawValue
    if isa & amx == amx { return .bf16 }
    if isa & bf16 == bf16 && CPUInfo.field("vendor_id") == "AuthenticAMD" { return .bf16 }
    return .f32
  }()
}

/// How GEMMs with 16-bit (bf16, f16) weights multiply. Either way the accumulation is f32 and
/// the weights are the stored 16-bit values; the difference is the activations' precision.
public enum SixteenBitProducts: String, Sendable, CaseIterable {
  /// Activations (and, for weight gradients, the output gradients) rounded to bf16 (nearest
  /// even), oneDNN's bf16 matmul. f16 weights are widened to f32 either way.
  case bf16
  /// Weights widened to f32 (exactly), f32 GEMMs on the f32 activations: the products of f32
  /// training with the weights' 16-bit values.
  case f32
}
