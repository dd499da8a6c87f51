import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Ctrl-C during training: the first SIGINT asks the run to stop after the current step (it
/// then writes a resumable checkpoint); a second one exits at once with status 130.
final class InterruptSignal {
  private final class Flag: Sendable {
    let raised = Atomic<Bool>(false)
  }

  private let flag = Flag()
  private let source: DispatchSourceSignal

  /// Starts catching SIGINT (until `stop()`).
  init() {
    signal(SIGINT, SIG_IGN)
    source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    source.setEventHandler { [flag] in
      if flag.raised.exchange(true, ordering: .relaxed) { _exit(130) }
    }
    source.resume()
  }

  /// Whether Ctrl-C was pressed.
  var wasReceived: Bool { flag.raised.load(ordering: .relaxed) }

  /// Stops catching SIGINT: Ctrl-C ends the process again.
  func stop() {
    source.cancel()
    signal(SIGINT, SIG_DFL)
  }
}
