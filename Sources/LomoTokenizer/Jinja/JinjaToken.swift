/// One lexical token of a template: literal text, a tag delimiter, or a piece of an expression
/// inside a tag. `line` is where it starts (1-based).
struct JinjaToken: Equatable {
  enum Kind: Equatable {
    /// Literal template text, after whitespace control.
    case text(String)
    /// `{{` and `}}`.
    case variableBegin, variableEnd
    /// `{%` and `%}`.
    case blockBegin, blockEnd
    case name(String)
    /// A string literal, escapes already decoded.
    case string(String)
    case integer(Int)
    case float(Double)
    /// An operator or punctuation: `+ - * / // % ** ~ == != < <= > >= = . , : | ( ) [ ] { }`.
    case op(String)
    case end
  }

  let kind: Kind
  let line: Int

  /// A short human description for error messages.
  var spelling: String {
    switch kind {
    case .text: "template text"
    case .variableBegin: "'{{'"
    case .variableEnd: "'}}'"
    case .blockBegin: "'{%'"
    case .blockEnd: "'%}'"
    case .name(let n): "'\(n)'"
    case .string: "a string"
    case .integer(let i): "'\(i)'"
    case .float(let d): "'\(d)'"
    case .op(let o): "'\(o)'"
    case .end: "the end of the template"
    }
  }
}
