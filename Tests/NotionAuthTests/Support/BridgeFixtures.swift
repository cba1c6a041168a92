@testable import NotionFakes
import AsyncHTTPClient
import Foundation
import Testing
@testable import NotionAuthCore

/// Tests/Python/upstream_mcp_server.py: a streamable-HTTP MCP server on loopback that accepts
/// only tokens the fake MCP authorization server says are active (introspection). Stop it.
final class UpstreamMCPServer: @unchecked Sendable {
    let started: Binary.Started
    let url: String

    struct Seen: Decodable {
        struct Token: Decodable { var token: String; var active: Bool }
        struct Request: Decodable {
            var method: String
            var session: String?
            var protocol_version: String?
            var last_event_id: String?
        }
        var tokens: [Token]
        var requests: [Request]
    }

    static func start(checkingTokensAt server: FakeMCPServer, directory: String, resumable: Bool = false) async throws -> UpstreamMCPServer {
        try Python.requireInterpreter()
        let started = try Binary.start(
            Python.interpreter,
            [Python.script("upstream_mcp_server.py"), "--introspect", server.baseURL + MCPEndpoints.introspectionPath]
                + (resumable ? ["--resumable"] : []),
            stdin: nil, environment: ProcessInfo.processInfo.environment, directory: directory)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let printed = (try? String(contentsOfFile: started.stdoutPath, encoding: .utf8)) ?? ""
            if let line = printed.split(separator: "\n").first, printed.contains("\n") {
                return UpstreamMCPServer(started: started, url: String(line))
            }
            guard started.process.isRunning else { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        started.process.terminate()
        let stderr = (try? String(contentsOfFile: started.stderrPath, encoding: .utf8)) ?? ""
        throw NotionauthError.failure("the upstream MCP server did not start: \(stderr)")
    }

    private init(started: Binary.Started, url: String) {
        self.started = started
        self.url = url
    }

    /// The tokens it was sent and the requests it answered, so far.
    func seen() async throws -> Seen {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: String(url.dropLast("/mcp".count)) + "/seen"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 24)
        return try JSONDecoder().decode(Seen.self, from: Data(body.readableBytesView))
    }

    /// SIGKILL: uvicorn's graceful shutdown would wait for streams that clients hold open.
    func stop() {
        kill(started.process.processIdentifier, SIGKILL)
        started.process.waitUntilExit()
        _ = Binary.collect(started)
    }
}

/// A notion-mcp connection logged in at the fake MCP server (due for refresh, as
/// `MCPLoginSetup.loggedIn` leaves it) and a sandbox whose notion-mcp bridges to an upstream
/// MCP server that checks tokens there. Call `stop()` in a `defer`.
struct BridgeSetup {
    let login: MCPLoginSetup
    let upstream: UpstreamMCPServer
    var server: FakeMCPServer { login.server }
    var sandbox: Sandbox { login.sandbox }

    static func start(resumable: Bool = false) async throws -> BridgeSetup {
        let login = try await MCPLoginSetup.loggedIn()
        let upstream = try await UpstreamMCPServer.start(checkingTokensAt: login.server, directory: login.sandbox.root, resumable: resumable)
        // The override points OAuth at the fake; its mcp.url now points at the upstream server.
        let file = login.sandbox.providersDirectory + "/notion-mcp.json"
        let json = try String(contentsOfFile: file, encoding: .utf8)
        let fakeEndpoint = "\"url\": \"\(login.server.baseURL)/mcp\""
        try #require(json.contains(fakeEndpoint))
        try login.sandbox.writeProvider("notion-mcp", json.replacingOccurrences(of: fakeEndpoint, with: "\"url\": \"\(upstream.url)\""))
        return BridgeSetup(login: login, upstream: upstream)
    }

    func stop() {
        upstream.stop()
        server.stopNow()
    }

    /// Every secret the stored connection holds now.
    func storedSecrets() async throws -> [String] {
        let stored = try await sandbox.storedConnection(provider: "notion-mcp")
        return [stored["access_token"]?.stringValue, stored["refresh_token"]?.stringValue].compactMap { $0 }
    }

    /// Tests/Python/bridge_client.py driving `notionauth mcp notion-mcp`, started.
    func startClient(pause: String? = nil, dropGetStream: Bool = false) throws -> BridgeClient {
        try Python.requireInterpreter()
        let base = sandbox.root + "/client-" + UUID().uuidString
        var arguments = [Python.script("bridge_client.py"), "--stdout-copy", base + ".stdout", "--stderr", base + ".stderr"]
        if let pause { arguments += ["--pause", pause] }
        if dropGetStream { arguments.append("--drop-get-stream") }
        arguments += ["--", Binary.notionauth, "mcp", "notion-mcp"]
        let started = try Binary.start(Python.interpreter, arguments, stdin: nil, environment: sandbox.environment, directory: sandbox.root)
        return BridgeClient(started: started, bridgeStdoutPath: base + ".stdout", bridgeStderrPath: base + ".stderr")
    }
}

/// A run of bridge_client.py and what the bridge under it wrote.
struct BridgeClient {
    let started: Binary.Started
    let bridgeStdoutPath: String
    let bridgeStderrPath: String

    struct Outcome {
        var report: JSONValue
        /// Every byte the bridge wrote on standard output, and on standard error.
        var bridgeStdout: String
        var bridgeStderr: String
        var clientStderr: String

        func step(_ name: String) -> JSONValue? { report["steps"]?[name] }
        func succeeded(_ name: String) -> Bool { step(name)?["ok"] == .bool(true) }
    }

    func finish() async throws -> Outcome {
        try await Binary.wait(started.process, timeoutSeconds: 90)
        let result = Binary.collect(started)
        #expect(result.status == 0, "bridge_client.py: \(result.stderr)")
        let read = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        let report = try JSONValue.parse(Array(result.stdout.utf8))
        return Outcome(report: report, bridgeStdout: read(bridgeStdoutPath), bridgeStderr: read(bridgeStderrPath), clientStderr: result.stderr)
    }
}
