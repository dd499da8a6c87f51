import ArgumentParser
import LomoTrain

/// How `lomo train` trains on conversations (`{"messages"}` data).
struct ChatDataOptions: ParsableArguments {
  @Option(help: ArgumentHelp(
    "Assistant turns of a {\"messages\"} conversation that are trained on: last (the last turn only, earlier turns are context) or all (every assistant turn). A turn's targets are its reply as the chat template renders it, end-of-turn marker included (and EOS after the last turn when the template does not write it); system, user and template tokens are never targets. Like --max-seq-len it shapes the data: --resume refuses a value that changes any target.",
    valueName: "last|all"))
  var trainOn: AssistantTurns = .last
}
