@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore

/// `notionauth mcp notion-mcp`: the bridge between an MCP client on stdio (the Python SDK's)
/// and a streamable-HTTP MCP server (the Python SDK's, checking tokens at the fake MCP server).
@Suite struct BridgeTests {
    @Test func toolCallsAndNotificationsPassThroughInOneSession() async throws {
        let setup = try await BridgeSetup.start()
        defer { setup.stop() }
        let outcome = try await setup.startClient().finish()

        for step in ["initialize", "list_tools", "echo", "progress", "announce"] {
            #expect(outcome.succeeded(step), "\(step): \(outcome.step(step)?.encoded() ?? "missing")\n\(outcome.bridgeStderr)")
        }
        let tools = outcome.step("list_tools")?["result"]?["tools"]
        #expect(tools?.encoded().contains("\"echo\"") == true)
        #expect(outcome.step("echo")?["result"]?["content"]?.encoded().contains("hello through the bridge") == true)
        // Progress and log notifications of the call pass through: checked in what the bridge
        // wrote, since the Python client hands notifications to tasks of their own and under
        // load can drop a progress whose callback went with the answer. Their order against the
        // answer is not asserted: the upstream (FastMCP 1.26) sends progress without the
        // request's id, so it travels on the GET stream, another connection than the answer's,
        // and the two may arrive either way round.
        let written = outcome.bridgeStdout.split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
        let progress = written.filter { $0["method"]?.stringValue == "notifications/progress" }
        #expect(progress.map { $0["params"]?["progress"] } == (1...3).map { .int(Int64($0)) }, "\(outcome.bridgeStdout)")
        let logs = written.filter { $0["method"]?.stringValue == "notifications/message" }
        #expect(logs.map { $0["params"]?["data"] } == (1...3).map { .string("step \($0) of 3") })
        #expect(written.contains { $0["result"]?["content"]?.encoded().contains("3 steps done") == true })
        #expect(outcome.report["progress"]?.encoded().contains("step 1") == true, "the client saw no progress at all")
        // tools/list_changed is unrelated to any request: it comes on the GET stream.
        #expect(outcome.report["notifications"]?.encoded().contains("notifications/tools/list_changed") == true, "\(outcome.report.encoded())")

        let requests = try await setup.upstream.seen().requests
        let first = try #require(requests.first)
        #expect(first.method == "POST" && first.session == nil && first.protocol_version == nil)
        let session = try #require(requests.dropFirst().first?.session, "the session id the server gave is not sent back")
        #expect(requests.dropFirst().allSatisfy { $0.session == session }, "\(requests)")
        #expect(requests.dropFirst().allSatisfy { $0.protocol_version != nil }, "\(requests)")
        #expect(requests.contains { $0.method == "GET" }, "no GET stream for server messages")
        #expect(requests.last?.method == "DELETE", "the session is not ended when the client leaves")

        try await expectOnlyProtocolOnStdoutAndNoSecrets(outcome, setup: setup)
    }

    @Test func aDroppedGETStreamIsOpenedAgainFromTheLastEvent() async throws {
        let setup = try await BridgeSetup.start(resumable: true)
        defer { setup.stop() }
        let outcome = try await setup.startClient(dropGetStream: true).finish()
        for step in ["initialize", "announce", "drop_get_stream", "announce_after_drop"] {
            #expect(outcome.succeeded(step), "\(step): \(outcome.step(step)?.encoded() ?? "missing")\n\(outcome.bridgeStderr)")
        }
        // The notification sent after the drop arrives: the bridge opened the stream again.
        #expect(outcome.report["list_changed_after_drop"] == .bool(true), "\(outcome.report.encoded())\n\(outcome.bridgeStderr)")
        let gets = try await setup.upstream.seen().requests.filter { $0.method == "GET" }
        #expect(gets.count >= 2, "\(gets)")
        // …resuming after the last event it had, as the specification asks.
        #expect(gets.dropFirst().contains { $0.last_event_id != nil }, "\(gets)")
        try await expectOnlyProtocolOnStdoutAndNoSecrets(outcome, setup: setup)
    }

    @Test func twoBridgesWithTheTokenDueMakeExactlyOneRefresh() async throws {
        let setup = try await BridgeSetup.start()
        defer { setup.stop() }
        let before = try await setup.storedSecrets()
        let refreshes = setup.server.requestCount(path: MCPEndpoints.tokenPath)
        let clients = try [setup.startClient(), setup.startClient()]
        var outcomes: [BridgeClient.Outcome] = []
        for client in clients { outcomes.append(try await client.finish()) }

        for outcome in outcomes {
            #expect(outcome.succeeded("echo"), "\(outcome.report.encoded())\n\(outcome.bridgeStderr)")
        }
        #expect(setup.server.requestCount(path: MCPEndpoints.tokenPath) == refreshes + 1)
        let after = try await setup.storedSecrets()
        #expect(after[0] != before[0])
        // Both bridges sent only the new token: the due one was replaced before the first request.
        #expect(Set(try await setup.upstream.seen().tokens.map(\.token)) == [after[0]])
        for outcome in outcomes {
            try await expectOnlyProtocolOnStdoutAndNoSecrets(outcome, setup: setup, also: before)
        }
    }

    @Test func aTokenRevokedMidSessionIsRefreshedOnceAndTheCallSentAgain() async throws {
        let setup = try await BridgeSetup.start()
        defer { setup.stop() }
        let pause = setup.sandbox.root + "/pause"
        let client = try setup.startClient(pause: pause)
        try await waitForFile(pause + ".reached", client: client)
        let revoked = try await setup.storedSecrets()
        let refreshes = setup.server.requestCount(path: MCPEndpoints.tokenPath)
        setup.server.revokeServerSide(token: revoked[0])
        FileManager.default.createFile(atPath: pause, contents: nil)
        let outcome = try await client.finish()

        #expect(outcome.succeeded("echo_after_pause"), "\(outcome.report.encoded())\n\(outcome.bridgeStderr)")
        #expect(outcome.step("echo_after_pause")?["result"]?["content"]?.encoded().contains("after the pause") == true)
        #expect(setup.server.requestCount(path: MCPEndpoints.tokenPath) == refreshes + 1)
        let renewed = try await setup.storedSecrets()
        #expect(renewed[0] != revoked[0])
        let tokens = try await setup.upstream.seen().tokens
        #expect(tokens.contains { $0.token == revoked[0] && !$0.active }, "the revoked token was never refused")
        #expect(tokens.last?.token == renewed[0] && tokens.last?.active == true)
        try await expectOnlyProtocolOnStdoutAndNoSecrets(outcome, setup: setup, also: revoked)
    }

    @Test func aDeadRefreshTokenAnswersEachRequestWithAnErrorNamingTheLoginCommand() async throws {
        let setup = try await BridgeSetup.start()
        defer { setup.stop() }
        let pause = setup.sandbox.root + "/pause"
        let client = try setup.startClient(pause: pause)
        try await waitForFile(pause + ".reached", client: client)
        let dead = try await setup.storedSecrets()
        for token in dead { setup.server.revokeServerSide(token: token) }
        FileManager.default.createFile(atPath: pause, contents: nil)
        let outcome = try await client.finish()

        #expect(outcome.succeeded("echo"))
        let error = try #require(outcome.step("echo_after_pause")?["error"], "\(outcome.report.encoded())")
        #expect(error["code"] == .int(-32001))
        #expect(error["message"]?.stringValue?.contains("`notionauth login notion-mcp") == true, "\(error.encoded())")
        #expect(try await setup.sandbox.run(["get", "notion-mcp", "--field", "status"]).stdout == "revoked\n")
        try await expectOnlyProtocolOnStdoutAndNoSecrets(outcome, setup: setup, also: dead)
    }

    @Test func aConnectionThatNeedsALoginAnswersInitializeWithTheError() async throws {
        let setup = try await BridgeSetup.start()
        defer { setup.stop() }
        let dead = try await setup.storedSecrets()
        for token in dead { setup.server.revokeServerSide(token: token) }
        let outcome = try await setup.startClient().finish()

        let error = try #require(outcome.step("initialize")?["error"], "\(outcome.report.encoded())")
        #expect(error["code"] == .int(-32001))
        #expect(error["message"]?.stringValue?.contains("`notionauth login notion-mcp") == true, "\(error.encoded())")
        #expect(try await setup.upstream.seen().requests.isEmpty, "a request went upstream without a usable token")
        try await expectOnlyProtocolOnStdoutAndNoSecrets(outcome, setup: setup, also: dead)
    }

    @Test func benchHelperTimesCallsThroughTheBridgeAndDirectly() async throws {
        let setup = try await BridgeSetup.start()
        defer { setup.stop() }
        // Handing out the due token refreshes it first, so the direct calls and the bridge share one.
        let token = try await setup.sandbox.run(["get", "notion-mcp", "--field", "access_token"]).stdout
            .trimmingCharacters(in: .newlines)
        let result = try await Binary.run(
            Python.interpreter,
            [Python.script("bench_bridge.py"), "--url", setup.upstream.url, "--calls", "5", "--", Binary.notionauth, "mcp", "notion-mcp"],
            environment: setup.sandbox.environment.merging(["NOTION_MCP_ACCESS_TOKEN": token]) { $1 }, directory: setup.sandbox.root)
        #expect(result.status == 0, "\(result.stderr)")
        let figures = try JSONValue.parse(Array(result.stdout.utf8))
        #expect(figures["calls"] == .int(5))
        for key in ["bridge_median_ms", "direct_median_ms"] {
            let value: Double? = switch figures[key] { case let .double(v)?: v; case let .int(v)?: Double(v); default: nil }
            #expect(value.map { $0 > 0 } == true, "\(key): \(result.stdout)")
        }
        #expect(!result.stdout.contains(token) && !result.stderr.contains(token))
    }

    /// Standard output holds JSON-RPC messages only, one a line; no token, old or new, is in
    /// any byte the bridge wrote; standard error has whole lines.
    private func expectOnlyProtocolOnStdoutAndNoSecrets(_ outcome: BridgeClient.Outcome, setup: BridgeSetup, also earlier: [String] = []) async throws {
        #expect(!outcome.bridgeStdout.isEmpty)
        for line in outcome.bridgeStdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let message = try? JSONValue.parse(Array(line.utf8))
            #expect(message?["jsonrpc"] == .string("2.0"), "not a JSON-RPC message on stdout: \(line)")
        }
        #expect(outcome.bridgeStdout.hasSuffix("\n"))
        #expect(outcome.bridgeStderr.isEmpty || outcome.bridgeStderr.hasSuffix("\n"))
        let seen = try await setup.upstream.seen().tokens.map(\.token)
        let secrets = Set(try await setup.storedSecrets() + earlier + seen)
        #expect(!secrets.isEmpty)
        for secret in secrets {
            #expect(!outcome.bridgeStdout.contains(secret), "a token on the bridge's stdout")
            #expect(!outcome.bridgeStderr.contains(secret), "a token on the bridge's stderr")
        }
    }

    private func waitForFile(_ path: String, client: BridgeClient) async throws {
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: path) {
            guard Date() < deadline, client.started.process.isRunning else {
                let stderr = (try? String(contentsOfFile: client.bridgeStderrPath, encoding: .utf8)) ?? ""
                throw NotionauthError.failure("the client never reached its pause: \(stderr)")
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }
}
