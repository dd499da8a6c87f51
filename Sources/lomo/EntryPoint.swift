/// Sets the OpenMP environment (which may re-execute the process), then runs the CLI.
@main
enum Main {
  static func main() {
    OpenMPEnvironment.ensurePassiveWaiting()
    Lomo.main()
  }
}
