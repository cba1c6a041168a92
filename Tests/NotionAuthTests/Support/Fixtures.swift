@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI
import NotionAuthPostgres

/// A context for `sandbox`, for tests that open its vault or build a provider client directly.
/// Its store is the one the sandbox names, file vault or PostgreSQL.
func contextFor(_ sandbox: Sandbox) async -> Context {
    var context = Context(
        environment: sandbox.environment, stdout: OutputSink(), stderr: OutputSink(),
        readStandardInput: { [] }, stdinIsTerminal: false, stdoutIsTerminal: false, stderrIsTerminal: false,
        promptSecret: { _ in nil }, now: { 1_790_000_000 }, http: AsyncHTTPTransport(), openBrowser: { _ in false })
    context.storeOpeners = PostgresStore.openers
    return context
}

/// Runs blocking store code on a thread of its own. The PostgreSQL store waits for its event
/// loop synchronously, which must not hold one of the few threads Swift concurrency's pool
/// has: the tests running beside it need them (and so does the store's own query task).
func offTheConcurrencyPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

extension Sandbox {
    /// The vault this sandbox's notionauth uses, opened in-process.
    func vault() async -> Vault {
        Session(context: await contextFor(self), global: GlobalOptions()).vault
    }

    /// Points a bundled provider at another origin through an override file, as a user would.
    func pointProvider(_ name: String, from origin: String, to baseURL: String) throws {
        let json = try String(contentsOfFile: Binary.repositoryRoot + "/providers/\(name).json", encoding: .utf8)
            .replacingOccurrences(of: origin, with: baseURL)
        try writeProvider(name, json)
    }

    /// Points `notion` at `baseURL` (a fake server, or a port nothing listens on).
    func pointNotion(at baseURL: String) throws {
        try pointProvider("notion", from: "https://api.notion.com", to: baseURL)
    }

    func pointNotionMCP(at baseURL: String) throws {
        try pointProvider("notion-mcp", from: "https://mcp.notion.com", to: baseURL)
    }

    /// The stored connection as `get --json --show-secrets` prints it.
    func storedConnection(provider: String = "notion", connection: String? = nil) async throws -> JSONValue {
        let result = try await run(["get", provider, "--json", "--show-secrets"] + (connection.map { ["--connection", $0] } ?? []))
        return try #require(JSONValue.parse(Array(result.stdout.utf8))["connection"], "\(result.stderr)")
    }

    /// Ages the stored default connection so that it is due for refresh: obtained 90 s ago,
    /// 30 s left of 120.
    func makeDue(provider: String = "notion", connection name: String = "default") async throws {
        let now = Int64(Date().timeIntervalSince1970)
        try await editConnection(provider: provider, name: name) { connection in
            connection.obtainedAt = now - 90
            connection.refreshedAt = nil
            connection.expiresAt = now + 30
        }
    }
}

/// A fake Notion with the public integration `client-1` registered for a free loopback port,
/// and a sandbox whose `notion` provider points at it. Stop the server in a `defer`.
struct BrowserLoginSetup {
    static let clientID = "client-1"
    static let clientSecret = "s3cret-value"
    /// How long the tests' logins wait for their browser. A ceiling, not a wait: in the first
    /// seconds of a full run, when every test starts at once on a 2-core machine, a test can
    /// take 20 s to play the browser's few requests (seen in CI: the login gave up first).
    static let loginTimeoutSeconds = 60

    let server: FakeNotionServer
    let sandbox: Sandbox
    let port: Int
    var redirectURI: String { "http://127.0.0.1:\(port)/auth/callback/oauth" }

    /// With `tls`, the fake also listens over HTTPS (`secureBaseURL`).
    static func start(tls: FakeTLS? = nil) async throws -> BrowserLoginSetup {
        let server = try await FakeNotionServer.start(tls: tls)
        let sandbox = try Sandbox()
        try sandbox.pointNotion(at: server.baseURL)
        let setup = BrowserLoginSetup(server: server, sandbox: sandbox, port: try Browserless.freePort())
        server.registerClient(id: clientID, secret: clientSecret, redirectURIs: [setup.redirectURI])
        return setup
    }

    /// A sandbox logged in to the fake Notion through the real browser flow; with a
    /// `lifetime`, its token is already due for refresh.
    static func loggedIn(lifetime: Int? = nil, tls: FakeTLS? = nil) async throws -> BrowserLoginSetup {
        let setup = try await start(tls: tls)
        setup.server.setAccessTokenLifetime(seconds: lifetime)
        let running = try setup.login()
        #expect(try await running.approveInBrowser(at: setup.server).status == 200)
        #expect(try await running.finish().status == 0)
        if lifetime != nil { try await setup.sandbox.makeDue() }
        return setup
    }

    /// `login notion` waiting on the port; the client on the command line and its secret on
    /// standard input, unless `secret` is nil.
    func login(extra: [String] = [], secret: String? = clientSecret, environment: [String: String] = [:]) throws -> RunningLogin {
        var arguments = ["login", "notion", "--no-browser", "--port", String(port), "--timeout", String(Self.loginTimeoutSeconds)] + extra
        if secret != nil { arguments += ["--client-id", Self.clientID, "--client-secret-stdin"] }
        return try RunningLogin(sandbox, arguments, stdin: secret, environment: environment)
    }

    /// The access token `get` hands out now (refreshing it first when it is due).
    func accessToken() async throws -> String {
        let result = try await sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .newlines)
    }
}

/// A fake Notion MCP server, a sandbox whose `notion-mcp` provider points at it, and a free
/// port for the callback. Stop the server in a `defer`.
struct MCPLoginSetup {
    let server: FakeMCPServer
    let sandbox: Sandbox
    let port: Int

    static func start() async throws -> MCPLoginSetup {
        let server = try await FakeMCPServer.start()
        let sandbox = try Sandbox()
        try sandbox.pointNotionMCP(at: server.baseURL)
        return MCPLoginSetup(server: server, sandbox: sandbox, port: try Browserless.freePort())
    }

    /// A notion-mcp connection logged in through the browser flow, already due for refresh.
    static func loggedIn(lifetime: Int = 120) async throws -> MCPLoginSetup {
        let setup = try await start()
        setup.server.setAccessTokenLifetime(seconds: lifetime)
        let running = try setup.login()
        #expect(try await running.approveInBrowser(at: setup.server).status == 200)
        #expect(try await running.finish().status == 0)
        try await setup.sandbox.makeDue(provider: "notion-mcp")
        return setup
    }

    /// `login notion-mcp` waiting on `port` (this setup's own unless given).
    func login(port: Int? = nil, extra: [String] = []) throws -> RunningLogin {
        try RunningLogin(sandbox, ["login", "notion-mcp", "--no-browser", "--port", String(port ?? self.port), "--timeout", String(BrowserLoginSetup.loginTimeoutSeconds)] + extra)
    }
}

/// A fake Notion that knows one internal integration token, and a sandbox logged in with it.
/// Stop the server in a `defer`.
struct TokenLoginSetup {
    let server: FakeNotionServer
    let sandbox: Sandbox
    let token: String

    static func loggedIn(token: String, workspace: String? = "Acme", tls: FakeTLS? = nil) async throws -> TokenLoginSetup {
        let server = try await FakeNotionServer.start(tls: tls)
        let sandbox = try Sandbox()
        try sandbox.pointNotion(at: server.baseURL)
        server.addInternalToken(token, botID: "bot-1", workspaceName: workspace)
        let result = try await sandbox.run(["login", "notion", "--with-token"], stdin: token)
        #expect(result.status == 0, "\(result.stderr)")
        return TokenLoginSetup(server: server, sandbox: sandbox, token: token)
    }
}

enum Shell {
    /// Runs a shell command as part of a test's set-up; a failure fails the test.
    static func run(_ command: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw NotionauthError.failure("`\(command)` exited \(process.terminationStatus)") }
    }
}

extension Sandbox {
    /// The token `loginWithToken` stores unless told otherwise.
    static let testToken = "ntn_test_token_0123456789abcdef"

    /// `login notion --with-token --no-verify` in-process: a connection without any server.
    func loginWithToken(_ token: String = testToken, connection: String = "default") async -> RunResult {
        await runInProcess(["login", "notion", "--with-token", "--no-verify", "--connection", connection], stdin: token + "\n")
    }

    /// Writes records straight into the vault, as a hand-made or damaged vault would hold them.
    func storeRecords(_ records: [String: Connection]) async throws {
        let vault = await vault()
        try vault.update { (contents: inout VaultContents) throws(NotionauthError) in
            for (name, connection) in records { contents.records[name] = connection.fields.bytes }
        }
    }
}
