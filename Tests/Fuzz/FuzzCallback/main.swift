// libFuzzer target: the login's loopback listener answers any request with a page, or
// hands the flow exactly one event, and never crashes. The input is
//   one byte (method in the low 3 bits, Origin header in the next 2, a Host header naming the
//   listener unless the sixth bit is set), the URI, "\n", the body.
// "@CSRF@" in the body stands for this listener's form token, which is random per run.
import CLibFuzzer
import Foundation
import NIOHTTP1
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

enum Fixture {
    /// One listener for the whole run: constructing one binds a loopback port.
    static let listener: CallbackListener = {
        do {
            return try CallbackListener(host: "127.0.0.1", port: 0, callbackPath: "/callback", state: "fuzz-state",
                                        firstRunPage: { csrf in "<form><input name=csrf_token value=\(csrf)></form>" })
        } catch {
            fatalError("cannot start the callback listener: \(error)")
        }
    }()

    static let methods: [HTTPMethod] = [.GET, .POST, .PUT, .HEAD, .DELETE, .OPTIONS, .PATCH, .RAW(value: "FUZZ")]
}

/// Takes every event the route delivered, without acting on any.
func drainEvents() -> Int {
    var count = 0
    while Fixture.listener.next(timeoutSeconds: 0) != nil { count += 1 }
    return count
}

/// `bytes` with every `placeholder` replaced, other bytes (valid UTF-8 or not) kept as they are.
func replacing(_ placeholder: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
        if bytes[i...].starts(with: placeholder) {
            out += replacement
            i += placeholder.count
        } else {
            out.append(bytes[i])
            i += 1
        }
    }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let control = bytes.first else { return 0 }
    let listener = Fixture.listener
    let rest = bytes.dropFirst()
    let uriEnd = rest.firstIndex(of: UInt8(ascii: "\n")) ?? rest.endIndex
    let uri = String(decoding: rest[..<uriEnd], as: UTF8.self)
    let body = replacing(Array("@CSRF@".utf8), with: Array(listener.csrfToken.utf8), in: Array(rest[uriEnd...].dropFirst()))
    var headers = HTTPHeaders()
    switch (control >> 3) & 3 {
    case 1: headers.add(name: "Origin", value: listener.origin)
    case 2: headers.add(name: "Origin", value: "http://attacker.example")
    case 3: headers.add(name: "Origin", value: "null")
    default: break
    }
    // Without the listener's own Host almost everything stops at 400: usually send it.
    if control & 0x20 == 0, let host = listener.authorities.sorted().first {
        headers.add(name: "Host", value: host)
    }

    _ = URLEncoding.formFields(body)
    let reply = listener.route(method: Fixture.methods[Int(control & 7)], uri: uri, headers: headers, body: body, respond: { _ in })
    let events = drainEvents()
    // The browser waits for an answer: either a page now, or an event the flow answers.
    if (reply == nil) != (events == 1) {
        fatalError("route answered \(String(describing: reply)) and delivered \(events) events for \(bytes)")
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(UnsafeRawPointer(data!), size) })
