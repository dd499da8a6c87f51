import ArgumentParser
import Foundation
import LomoModel
import LomoTokenizer

/// `lomo tokenize`: the token ids of a text.
struct Tokenize: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the token ids of a text, one per line (with the token) or as JSON.")

  @OptionGroup(title: "Model") var model: ModelOption

  @Option(help: "The text to tokenize.")
  var text: String

  @Flag(help: "Print a JSON array of ids instead of one id and token per line.")
  var json = false

  @Flag(help: "Do not add the BOS/EOS tokens the model's metadata asks for.")
  var noSpecial = false

  func run() throws {
    let tokenizer = try LoadedModel.tokenizer(for: try ModelSource.resolve(model.model))
    let ids = tokenizer.encode(text, addSpecial: !noSpecial)
    if json {
      print("[" + ids.map(String.init).joined(separator: ",") + "]")
    } else {
      for id in ids {
        print("\(id)\t\(String(reflecting: tokenizer.token(for: id) ?? "?"))")
      }
    }
  }
}
