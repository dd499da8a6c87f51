import CDNNL
import LomoCore

/// Process-wide kernel settings.
public enum Runtime {
  /// Sets the worker threads of lomo's own kernels and of oneDNN's OpenMP runtime.
  /// - Precondition: `n >= 1`.
  public static func setThreadCount(_ n: Int) {
    Threads.setCount(n)
    omp_set_num_threads(Int32(n))
  }
}
