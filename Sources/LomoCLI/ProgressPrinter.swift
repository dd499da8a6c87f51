import Foundation
import LomoCore
import LomoTrain

#if canImport(Glibc)
  import Glibc
#endif

/// Renders training steps on stderr: one self-overwriting line with ETA on a terminal, plain
/// lines (every `every` steps) otherwise; tok/s is the mean over the run so far, the figure its
/// summary ends with. Silent on every rank but rank 0 of an mpirun job.
final class ProgressPrinter {
  let terminal = Diagnostics.isTerminal
  let every: Int
  let silent: Bool
  var wrote = false

  init(every: Int = 1, silent: Bool = false) {
    self.every = max(every, 1)
    self.silent = silent
  }

  func step(_ m: StepMetrics) {
    let eta = Format.duration(m.etaSeconds, .clock)
    var line = String(format: "step %d/%d  epoch %d  loss %.4f  lr %.3g", m.step, m.totalSteps,
                      m.epoch + 1, m.loss, m.learningRate)
    if let n = m.gradientNorm { line += String(format: "  |g| %.3g", n) }
    if let s = m.lossScale { line += String(format: "  scale %g", s) }
    if m.skipped { line += "  (skipped: overflow)" }
    line += String(format: "  %.0f tok/s  rss %@  eta %@", m.meanTokensPerSecond,
                   Format.bytes(m.rssBytes), eta)
    if terminal {
      write("\r\u{1B}[K" + line)
      wrote = true
    } else if m.step % every == 0 || m.step == m.totalSteps {
      write(line + "\n")
    }
  }

  func message(_ s: String) {
    finish()
    write(s + "\n")
  }

  func finish() {
    if terminal && wrote { write("\n") }
    wrote = false
  }

  func write(_ s: String) { if !silent { Diagnostics.write(s) } }

}
