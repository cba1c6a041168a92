@testable import NotionFakes
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import NotionAuthKit

/// Plays the browser in login tests: plain HTTP requests that do not follow redirects.
enum Browserless {
    struct Page {
        var status: Int
        var location: String?
        var body: String
    }

    static func request(_ url: String, method: String = "GET", headers: [(String, String)] = [], body: String? = nil) async throws -> Page {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .init(rawValue: method)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let body { request.body = .bytes(Array(body.utf8)) }
            let response = try await client.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            try await client.shutdown()
            return Page(status: Int(response.status.code), location: response.headers.first(name: "location"), body: String(buffer: bytes))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// A port nothing listens on right now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw NotionauthError.failure("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A `notionauth login` running as a child process, with its stderr readable as it goes.
final class RunningLogin: @unchecked Sendable {
    let started: Binary.Started

    init(_ sandbox: Sandbox, _ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:]) throws {
        started = try Binary.start(Binary.notionauth, arguments, stdin: stdin, environment: sandbox.environment.merging(extra) { $1 }, directory: sandbox.root)
    }

    var stderr: String { (try? String(contentsOfFile: started.stderrPath, encoding: .utf8)) ?? "" }

    /// The first URL printed on a line of its own.
    func printedURL(timeoutSeconds: Double = 20) async throws -> String {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if let line = stderr.split(separator: "\n").first(where: { $0.hasPrefix("http://") || $0.hasPrefix("https://") }) {
                return String(line)
            }
            if !started.process.isRunning { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        Issue.record("no URL printed; stderr: \(stderr)")
        throw NotionauthError.failure("no URL")
    }

    func finish(timeoutSeconds: Double = 30) async throws -> RunResult {
        try await Binary.wait(started.process, timeoutSeconds: timeoutSeconds)
        return Binary.collect(started)
    }
}

extension RunningLogin {
    /// Plays the browser: opens `url` (by default the one the login printed) at the fake's
    /// consent screen and delivers the redirect it answers with to the login's callback
    /// listener. Returns the page the listener served.
    @discardableResult
    func approveInBrowser<Endpoints>(at server: FakeServer<Endpoints>, url: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Browserless.Page {
        let consentURL: String
        if let url { consentURL = url } else { consentURL = try await printedURL() }
        let consent = try await server.authorizeLikeABrowser(url: consentURL)
        return try await Browserless.request(try #require(consent.location, "no redirect from the consent screen (\(consent.status))", sourceLocation: sourceLocation))
    }

    /// Approves in the browser, then waits for the login to end.
    func completeInBrowser<Endpoints>(at server: FakeServer<Endpoints>, sourceLocation: SourceLocation = #_sourceLocation) async throws -> RunResult {
        try await approveInBrowser(at: server, sourceLocation: sourceLocation)
        return try await finish()
    }
}
