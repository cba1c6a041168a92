@testable import NotionFakes
import AsyncHTTPClient
import Foundation
import Synchronization
import NIOCore
import NIOPosix
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

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

    /// Ports already handed to a test of this run: two concurrent tests drawing the same
    /// port at random (seen in CI) would each find the other's login on it.
    private static let handedOut = Mutex<Set<Int>>([])

    /// A port nothing listens on right now and no other test of this run was given, drawn at
    /// random below the kernel's ephemeral range: a port the kernel hands out for bind(0) is
    /// soon handed out again, as the local port of some test's outgoing connection, and the
    /// login then finds it in use.
    static func freePort() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20_000..<32_000)
            guard handedOut.withLock({ $0.insert(port).inserted }) else { continue }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            if bound { return port }
        }
        throw NotionauthError.failure("no free port")
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
    func printedURL(timeoutSeconds: Double = 60) async throws -> String {
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
