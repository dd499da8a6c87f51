import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// oneDNN's OpenMP workers busy-wait between GEMMs by default. lomo alternates oneDNN GEMMs
/// with its own threaded kernels, so spinning workers steal the cores those kernels need (on a
/// loaded 2-core machine a step measured 2-10x slower). libgomp reads `OMP_WAIT_POLICY` once,
/// when it is loaded, before `main` runs: so when the user has not chosen a policy, lomo sets
/// `passive` and re-executes itself once.
public enum OpenMPEnvironment {
  public static func ensurePassiveWaiting() {
    guard getenv("OMP_WAIT_POLICY") == nil else { return }
    setenv("OMP_WAIT_POLICY", "passive", 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)
    // execv returns only on failure: carry on with the default policy.
  }
}
