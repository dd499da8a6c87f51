import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Ctrl-C during training: the first SIGINT asks the run to stop after the current step (it
/// then writes a resumable checkpoint); a second one exits at once with status 130. SIGUSR1
/// asks the same as the first SIGINT: under mpirun, whose own Ctrl-C ends every rank at once,
/// `kill -USR1` of mpirun (which forwards it to every rank) stops the job with a checkpoint.
final class InterruptSignal {
  private final class Flag: Sendable {
    let raised = Atomic<Bool>(false)
  }

  private let flag = Flag()
  private let sources: [DispatchSourceSignal]

  /// Starts catching SIGINT and SIGUSR1 (until `stop()`).
  init() {
    sources = [SIGINT, SIGUSR1].map { [flag] number in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler {
        if flag.raised.exchange(true, ordering: .relaxed) && number == SIGINT { _exit(130) }
      }
      source.resume()
      return source
    }
  }

  /// Whether Ctrl-C (or SIGUSR1) was received.
  var wasReceived: Bool { flag.raised.load(ordering: .relaxed) }

  /// Stops catching the signals: Ctrl-C ends the process again. SIGUSR1 stays ignored: mpirun
  /// forwards it to the ranks one after the other, so a rank can get its copy only after the
  /// ranks agreed to stop (on another rank's copy) and this ran; its default action would then
  /// kill that rank in the middle of writing its part of the checkpoint.
  func stop() {
    for source in sources { source.cancel() }
    signal(SIGINT, SIG_DFL)
    signal(SIGUSR1, SIG_IGN)
  }
}
