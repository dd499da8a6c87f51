import Foundation

/// The global functions chat templates see: transformers' `raise_exception(message)`,
/// `strftime_now(format)` (the render's `now`, local time, C-locale names) and Jinja's
/// `namespace(...)`, `range(...)` and `dict(...)`.
extension JinjaRenderer {
  /// `range` refuses to build longer lists than this.
  static let maxRange = 100_000

  static func globals(now: Date) -> [String: JinjaValue] {
    func global(_ name: String, _ body: @escaping (JinjaCallArguments) throws(JinjaError) -> JinjaValue) -> (String, JinjaValue) {
      (name, .function(JinjaFunction(name: name, call: body)))
    }
    return Dictionary(uniqueKeysWithValues: [
      global("raise_exception") { a throws(JinjaError) in
        throw JinjaError(.raised, line: a.line, a.argument(0, "message")?.str ?? "")
      },
      global("strftime_now") { a throws(JinjaError) in
        try a.check(atMost: 1)
        guard let format = try a.string(0, "format") else { throw JinjaError(.runtime, line: a.line, "strftime_now needs a format string") }
        return .string(strftime(format, now))
      },
      global("namespace") { a throws(JinjaError) in
        .namespace(JinjaNamespace(try keywordDict(a)))
      },
      global("dict") { a throws(JinjaError) in
        .dict(try keywordDict(a))
      },
      global("range") { a throws(JinjaError) in
        try a.check(atMost: 3)
        var bounds: [Int] = []
        for v in a.positional {
          guard let i = v.integer else { throw JinjaError(.runtime, line: a.line, "range: '\(v.typeName)' object cannot be interpreted as an integer") }
          bounds.append(i)
        }
        guard !bounds.isEmpty else { throw JinjaError(.runtime, line: a.line, "range expects at least 1 argument") }
        let (start, stop) = bounds.count == 1 ? (0, bounds[0]) : (bounds[0], bounds[1])
        let step = bounds.count == 3 ? bounds[2] : 1
        guard step != 0 else { throw JinjaError(.runtime, line: a.line, "range: step must not be zero") }
        let count = step > 0 ? (stop > start ? (Double(stop) - Double(start)) / Double(step) : 0)
          : (start > stop ? (Double(start) - Double(stop)) / Double(-step) : 0)
        guard count.rounded(.up) <= Double(maxRange) else {
          throw JinjaError(.limit, line: a.line, "range of more than \(maxRange) numbers")
        }
        return .list(Swift.stride(from: start, to: stop, by: step).map(JinjaValue.int))
      },
    ])
  }

  /// `namespace(d, key=value…)` / `dict(…)`: an optional dict positional, then keywords.
  static func keywordDict(_ a: JinjaCallArguments) throws(JinjaError) -> JinjaDict {
    try a.check(atMost: 1, names: a.keyword.map(\.name))
    var d = JinjaDict()
    if let first = a.positional.first {
      guard case .dict(let given) = first else { throw JinjaError(.runtime, line: a.line, "\(a.callee) takes a dict or keyword arguments") }
      d = given
    }
    for (k, v) in a.keyword { d[k] = v }
    return d
  }

  static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
  static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]

  /// C `strftime` in the C locale for `%a %A %b %B %d %e %m %y %Y %H %I %M %S %p %j %%`, with
  /// glibc's `%-d` (no padding); other directives are copied unchanged.
  static func strftime(_ format: String, _ date: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone.current
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
    let dayOfYear = calendar.ordinality(of: .day, in: .year, for: date) ?? 1
    let year = c.year ?? 1970, month = c.month ?? 1, day = c.day ?? 1
    let hour = c.hour ?? 0, minute = c.minute ?? 0, second = c.second ?? 0
    let weekday = weekdays[((c.weekday ?? 1) - 1) % 7]
    let monthName = months[(month - 1) % 12]
    func pad(_ v: Int, _ width: Int, _ noPad: Bool) -> String {
      let s = String(v)
      return noPad ? s : String(repeating: "0", count: max(0, width - s.count)) + s
    }
    var out = ""
    var it = Array(format).makeIterator()
    while let ch = it.next() {
      guard ch == "%", var code = it.next() else {
        out.append(ch)
        continue
      }
      let noPad = code == "-"
      if noPad {
        guard let next = it.next() else { out += "%-"; break }
        code = next
      }
      switch code {
      case "a": out += String(weekday.prefix(3))
      case "A": out += weekday
      case "b", "h": out += String(monthName.prefix(3))
      case "B": out += monthName
      case "d": out += pad(day, 2, noPad)
      case "e": out += noPad ? String(day) : (day < 10 ? " " : "") + String(day)
      case "m": out += pad(month, 2, noPad)
      case "y": out += pad(year % 100, 2, noPad)
      case "Y": out += String(year)
      case "H": out += pad(hour, 2, noPad)
      case "I": out += pad(hour % 12 == 0 ? 12 : hour % 12, 2, noPad)
      case "M": out += pad(minute, 2, noPad)
      case "S": out += pad(second, 2, noPad)
      case "p": out += hour < 12 ? "AM" : "PM"
      case "j": out += pad(dayOfYear, 3, noPad)
      case "%": out += "%"
      default: out += "%" + (noPad ? "-" : "") + String(code)
      }
    }
    return out
  }
}
