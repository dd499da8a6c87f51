import Foundation
import LomoCore
import LomoTestSupport
import XCTest

/// SHA-256 against FIPS 180-4's examples, across block boundaries fed in pieces, and against
/// the system's `sha256sum` on a file of random bytes.
final class SHA256Tests: XCTestCase {
  func hex(_ s: String) -> String {
    var h = SHA256()
    h.update(Array(s.utf8))
    return h.hexDigest()
  }

  func testKnownDigests() {
    XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    XCTAssertEqual(hex(String(repeating: "a", count: 1_000_000)),
                   "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  func testPiecesGiveTheDigestOfTheWhole() {
    var rng = Xoshiro256(seed: 3)
    let bytes = (0..<1000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    var whole = SHA256()
    whole.update(bytes)
    for cut in [0, 1, 55, 56, 63, 64, 65, 127, 999] {
      var pieces = SHA256()
      pieces.update(Array(bytes[..<cut]))
      pieces.update(Array(bytes[cut...]))
      XCTAssertEqual(pieces.hexDigest(), whole.hexDigest(), "cut at \(cut)")
    }
    XCTAssertEqual(whole.hexDigest(), whole.hexDigest(), "digest leaves the state as it was")
  }

  func testAgreesWithSha256sum() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sha256sum") else { throw XCTSkip("no sha256sum") }
    let dir = try TemporaryDirectory("sha256")
    var rng = Xoshiro256(seed: 9)
    let bytes = (0..<300_001).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    let path = dir("random.bin")
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    p.arguments = [path]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    var h = SHA256()
    h.update(bytes)
    XCTAssertEqual(String(output.prefix(64)), h.hexDigest())
  }
}
