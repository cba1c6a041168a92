@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthMCP

/// `notionauth mcp`, driven by the Python MCP SDK as an independent client, against the fake
/// Notion: the protocol, the tool list, the arguments an agent may send, and the token that
/// must stay out of everything the server writes.
@Suite struct MCPServerTests {
    static let readTools: Set = [
        "notion_search", "notion_get_page", "notion_get_page_property", "notion_get_block", "notion_get_block_children",
        "notion_get_database", "notion_get_data_source", "notion_query_data_source", "notion_list_comments",
        "notion_get_comment", "notion_list_users", "notion_get_user", "notion_get_self",
    ]
    static let addingTools: Set = ["notion_create_page", "notion_append_block_children", "notion_create_database", "notion_create_comment"]
    static let changingTools: Set = ["notion_update_page", "notion_update_block", "notion_delete_block", "notion_update_data_source"]

    static let pageHex = "0123456789abcdef0123456789abcdef"
    static let pageID = "01234567-89ab-cdef-0123-456789abcdef"

    /// Every line the server wrote to standard output is one JSON-RPC 2.0 message.
    static func expectOnlyProtocol(_ run: MCPClientRun) {
        let lines = run.serverStdout.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let message = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(message?["jsonrpc"] as? String == "2.0", "not a JSON-RPC message on stdout: \(line.prefix(200))")
        }
    }

    static func expectNoSecret(_ secrets: [String], in run: MCPClientRun) {
        for secret in secrets {
            #expect(!run.serverStdout.contains(secret), "a secret on the server's stdout")
            #expect(!run.serverStderr.contains(secret), "a secret on the server's stderr")
            #expect(!"\(run.report)".contains(secret), "a secret in what the client received")
        }
    }

    @Test func initialisesAndListsEveryToolWithValidSchemasAndHints() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_mcp_list_0123456789abcdef")
        defer { Task { try? await setup.server.stop() } }
        let run = try await setup.sandbox.mcpSession([], [.listTools, .call("notion_get_self")])

        let initialize = try #require(run.report["initialize"] as? [String: Any])
        #expect((initialize["serverInfo"] as? [String: Any])?["name"] as? String == "notionauth")
        // The SDK negotiates the newest revision both sides know; 2025-06-18 or later.
        #expect((initialize["protocolVersion"] as? String ?? "") >= "2025-06-18")
        #expect(((initialize["capabilities"] as? [String: Any])?["tools"]) != nil)

        let tools = run.tools
        let names = Set(tools.compactMap { $0["name"] as? String })
        #expect(names == Self.readTools.union(Self.addingTools).union(Self.changingTools))
        #expect((run.step(0)["schema_problems"] as? [String: Any])?.isEmpty == true, "\(run.step(0)["schema_problems"] ?? "")")
        for tool in tools {
            let name = tool["name"] as? String ?? ""
            let annotations = tool["annotations"] as? [String: Any] ?? [:]
            let schema = tool["inputSchema"] as? [String: Any] ?? [:]
            #expect((tool["description"] as? String ?? "").count > 30, "\(name) needs a description an agent can act on")
            #expect(schema["type"] as? String == "object")
            #expect(schema["additionalProperties"] as? Bool == false, "\(name)")
            #expect(annotations["readOnlyHint"] as? Bool == Self.readTools.contains(name), "\(name)")
            if Self.changingTools.contains(name) { #expect(annotations["destructiveHint"] as? Bool == true, "\(name)") }
            if Self.addingTools.contains(name) { #expect(annotations["destructiveHint"] as? Bool == false, "\(name)") }
            // One connection: no `connection` argument to offer.
            #expect((schema["properties"] as? [String: Any])?["connection"] == nil)
        }
        let me = run.step(1)
        #expect(!me.isError, "\(me.text)")
        #expect(me.structured?["object"] as? String == "user")
        #expect(me.structured?["id"] as? String == "bot-1")
        Self.expectOnlyProtocol(run)
        Self.expectNoSecret([setup.token], in: run)
        #expect(setup.server.lastRequest(path: "/v1/users/me")?.header("authorization") == "Bearer \(setup.token)")
        #expect(setup.server.lastRequest(path: "/v1/users/me")?.header("notion-version") == "2025-09-03")
    }

    @Test func readOnlyOffersAndRunsOnlyTheToolsThatDoNotChangeContent() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_mcp_readonly_0123456789abcdef")
        defer { Task { try? await setup.server.stop() } }
        let run = try await setup.sandbox.mcpSession(
            ["--read-only"],
            [.listTools, .call("notion_delete_block", ["block_id": Self.pageID]), .call("notion_create_comment", ["page_id": Self.pageID, "text": "hi"])])
        #expect(Set(run.tools.compactMap { $0["name"] as? String }) == Self.readTools)
        for index in [1, 2] {
            let refused = try #require(run.step(index).rpcError, "\(run.step(index))")
            #expect(refused["code"] as? Int == -32602)
            #expect((refused["message"] as? String ?? "").contains("read-only"))
        }
        #expect(setup.server.allRequests.filter { $0.path.hasPrefix("/v1/blocks") || $0.path.hasPrefix("/v1/comments") }.isEmpty)
    }

    @Test func hostileArgumentsAreRefusedAndNoRequestLeavesForAnotherPath() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_mcp_hostile_0123456789abcdef")
        defer { Task { try? await setup.server.stop() } }
        let badIDs: [Any] = [
            "../users/me", "..", "/v1/users", "\(Self.pageHex)/../../users", "\(Self.pageHex)?x=1", "\(Self.pageHex)#frag",
            "\(Self.pageHex)%2F..%2Fusers", "%2e%2e", "\(Self.pageHex)\r\nX-Injected: 1", "\(Self.pageHex) ", "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdeg", String(repeating: "a", count: 100_000), 12345, ["id": Self.pageHex], NSNull(),
            "https://evil.example/\(Self.pageHex)x", "javascript:alert(1)",
        ]
        var steps = badIDs.map { MCPStep.call("notion_get_page", ["page_id": $0]) }
        steps += [
            .call("notion_get_block_children", ["block_id": Self.pageID, "page_size": "10"]),
            .call("notion_get_block_children", ["block_id": Self.pageID, "page_size": 1000]),
            .call("notion_get_page", ["page_id": Self.pageID, "pageid": Self.pageID]),
            .call("notion_search", ["query": String(repeating: "q", count: 5000)]),
            .call("notion_create_page", ["parent_page_id": Self.pageID, "parent_data_source_id": Self.pageID, "properties": [:] as [String: Any]]),
            .call("notion_create_page", ["parent_page_id": Self.pageID, "properties": "title"]),
            .call("notion_append_block_children", ["block_id": Self.pageID, "children": [["x": String(repeating: "z", count: 1_100_000)]]]),
            .call("notion_no_such_tool"),
        ]
        let run = try await setup.sandbox.mcpSession([], steps)
        for (index, step) in run.steps.dropLast().enumerated() {
            #expect(step.isError, "step \(index) was not refused: \(step.text.prefix(200))")
            #expect(step.text.hasPrefix("Invalid arguments"), "step \(index): \(step.text.prefix(200))")
            #expect(!step.text.contains("\r") && !step.text.contains("\n"), "step \(index) echoes a line break")
        }
        #expect(run.steps.last?.rpcError?["code"] as? Int == -32602)
        // Nothing reached Notion but the login's own check.
        #expect(setup.server.allRequests.map(\.path) == ["/v1/users/me"], "\(setup.server.allRequests.map(\.uri))")
        Self.expectOnlyProtocol(run)
    }

    @Test func idsAreAcceptedAsNotionURLsAndWithoutHyphens() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_mcp_urls_0123456789abcdef")
        defer { Task { try? await setup.server.stop() } }
        let forms = [
            Self.pageHex, Self.pageID, Self.pageHex.uppercased(),
            "https://www.notion.so/acme/Roadmap-\(Self.pageHex)?pvs=4",
            "https://www.notion.so/\(Self.pageHex)#\(Self.pageHex)",
            "https://acme.notion.site/Roadmap-Q3-\(Self.pageHex)",
        ]
        _ = try await setup.sandbox.mcpSession([], forms.map { .call("notion_get_page", ["page_id": $0]) })
        let paths = setup.server.allRequests.map(\.uri).filter { $0 != "/v1/users/me" }
        #expect(paths == Array(repeating: "/v1/pages/\(Self.pageID)", count: forms.count))
    }

    @Test func idsNormaliseToTheHyphenatedFormOrNothing() {
        #expect(NotionID.normalise(Self.pageHex) == Self.pageID)
        #expect(NotionID.normalise("https://www.notion.so/Roadmap-\(Self.pageHex)?v=\(String(repeating: "f", count: 32))") == Self.pageID)
        #expect(NotionID.normalise("https://www.notion.so/Roadmap\(Self.pageHex)") == nil)
        #expect(NotionID.normalise("0123-4567-89ab-cdef-0123-4567-89ab-cd") == nil)
        #expect(NotionID.normalise("https://www.notion.so") == nil)
        #expect(PathSegment.encode("%3A%3Fxy") == "%3A%3Fxy")
        #expect(PathSegment.encode("a/../b?c#d") == "a%2F..%2Fb%3Fc%23d")
        #expect(PathSegment.encode("..") == "%2E%2E")
        #expect(PathSegment.encode("%2F") == "%2F")
    }

    @Test func twoConnectionsAreLiveInOneServer() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_mcp_work_0123456789abcdef")
        defer { Task { try? await setup.server.stop() } }
        let home = "ntn_mcp_home_0123456789abcdef"
        setup.server.addInternalToken(home, botID: "bot-home", workspaceName: "Home")
        #expect(try await setup.sandbox.run(["login", "notion", "--with-token", "--connection", "home"], stdin: home).status == 0)
        let run = try await setup.sandbox.mcpSession(
            ["--connection", "home", "--connection", "default"],
            [
                .listTools, .call("notion_get_self"), .call("notion_get_self", ["connection": "default"]),
                .call("notion_get_self", ["connection": "other"]),
            ])
        let schema = try #require(run.tools.first { $0["name"] as? String == "notion_get_self" }?["inputSchema"] as? [String: Any])
        let connection = try #require((schema["properties"] as? [String: Any])?["connection"] as? [String: Any])
        #expect(connection["enum"] as? [String] == ["home", "default"])
        #expect(run.step(1).structured?["id"] as? String == "bot-home")
        #expect(run.step(2).structured?["id"] as? String == "bot-1")
        #expect(run.step(3).isError && run.step(3).text.contains("`connection` must be one of"))
        Self.expectNoSecret([setup.token, home], in: run)
    }

    @Test func aRevokedTokenIsRefreshedOnceThenALoginIsAskedFor() async throws {
        let setup = try await BrowserLoginSetup.loggedIn()
        defer { Task { try? await setup.server.stop() } }
        let first = try await setup.accessToken()
        let stored = try await setup.sandbox.storedConnection()
        let refreshToken = try #require(stored["refresh_token"]?.stringValue)
        let run = try await setup.sandbox.mcpSession([], [.call("notion_get_self")])
        #expect(!run.step(0).isError)

        // Revoked at Notion during a session: one refresh, the call succeeds.
        setup.server.revokeServerSide(token: first)
        let second = try await setup.sandbox.mcpSession([], [.call("notion_get_self"), .call("notion_get_self")])
        #expect(!second.step(0).isError, "\(second.step(0).text)")
        #expect(!second.step(1).isError)
        #expect(setup.server.refreshRequestCount() == 1)
        let renewed = try await setup.accessToken()
        #expect(renewed != first)

        // Access and refresh token both dead: the agent is told to have the user log in.
        setup.server.revokeServerSide(token: renewed)
        let newRefresh = try #require(try await setup.sandbox.storedConnection()["refresh_token"]?.stringValue)
        setup.server.revokeServerSide(token: newRefresh)
        let third = try await setup.sandbox.mcpSession([], [.call("notion_get_self")])
        #expect(third.step(0).isError)
        #expect(third.step(0).text.contains("notionauth login notion"), "\(third.step(0).text)")
        for run in [run, second, third] {
            Self.expectNoSecret([first, renewed, refreshToken, newRefresh, BrowserLoginSetup.clientSecret], in: run)
            Self.expectOnlyProtocol(run)
        }
    }

    @Test func aTokenRefreshedByAnotherProcessMidSessionIsTakenUpWithoutAnotherRefresh() async throws {
        // The server keeps the connection between calls; another process's refresh retires
        // that token, and the next call must find the new one in the store, not refresh again.
        let setup = try await BrowserLoginSetup.loggedIn(lifetime: 120)
        defer { Task { try? await setup.server.stop() } }
        let session = Task {
            try await setup.sandbox.mcpSession([], [.call("notion_get_self"), .sleep(4), .call("notion_get_self")])
        }
        let deadline = Date().addingTimeInterval(20)
        while setup.server.refreshRequestCount() < 1 && Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
        try await Task.sleep(nanoseconds: 500_000_000)
        try await setup.sandbox.makeDue()
        let other = try await setup.sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(setup.server.refreshRequestCount() == 2, "the server's first call and the other process each refreshed once")
        let run = try await session.value
        #expect(!run.step(0).isError && !run.step(2).isError, "\(run.step(2).text)")
        #expect(setup.server.refreshRequestCount() == 2)
        #expect(setup.server.lastRequest(path: "/v1/users/me")?.header("authorization") == "Bearer \(other.stdout.trimmingCharacters(in: .newlines))")
    }

    /// An agent's server on one machine and `get` on another, sharing a PostgreSQL store: the
    /// server refreshes the due token once, in the store, and the other machine hands out
    /// that same token without a refresh of its own.
    @Test func theServerWorksAgainstAPostgresStoreSharedWithAnotherMachine() async throws {
        let setup = try await BrowserLoginSetup.loggedIn(lifetime: 120)
        defer { Task { try? await setup.server.stop() } }
        try await setup.sandbox.moveToPostgres()
        let run = try await setup.sandbox.mcpSession([], [.call("notion_get_self")])
        #expect(!run.step(0).isError, "\(run.step(0).text) \(run.serverStderr)")
        #expect(setup.server.refreshRequestCount() == 1)
        let elsewhere = try await setup.sandbox.anotherMachine().run(["get", "notion", "--field", "access_token"])
        #expect(elsewhere.status == 0, "\(elsewhere.stderr)")
        #expect(setup.server.refreshRequestCount() == 1)
        #expect(setup.server.lastRequest(path: "/v1/users/me")?.header("authorization") == "Bearer \(elsewhere.stdout.trimmingCharacters(in: .newlines))")
        Self.expectNoSecret([elsewhere.stdout.trimmingCharacters(in: .newlines), BrowserLoginSetup.clientSecret], in: run)
        Self.expectOnlyProtocol(run)
    }

    @Test func notionAsCommandFindsTheServerBesideItselfAndRefusesAMissingOne() async throws {
        // `notionauth mcp` runs notionauth-mcp from its own directory: a copy of notionauth
        // alone in a directory has none to run.
        let sandbox = try Sandbox()
        let lonely = sandbox.root + "/bin"
        try FileManager.default.createDirectory(atPath: lonely, withIntermediateDirectories: true)
        // Copied through a close-on-exec descriptor, and run again while the kernel says "text
        // file busy": a process that another test forks in the meantime holds a copy of the
        // descriptor until it execs (CI saw this once).
        let copy = lonely + "/notionauth"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Binary.notionauth))
        let fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        try #require(fd >= 0)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        close(fd)
        try #require(written == bytes.count)
        var result = RunResult(status: -1, stdout: "", stderr: "")
        for attempt in 1...50 {
            do {
                result = try await Binary.run(copy, ["mcp"], environment: sandbox.environment, directory: sandbox.root)
                break
            } catch let error as NSError where attempt < 50 && (error.userInfo[NSUnderlyingErrorKey] as? NSError)?.code == Int(ETXTBSY) {
                try await Task.sleep(nanoseconds: 100_000_000)
            }
        }
        #expect(result.status == 1)
        #expect(result.stderr.contains("notionauth-mcp is not installed beside notionauth"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        // Usage errors come from notionauth itself, before any server starts.
        let usage = try await sandbox.run(["mcp", "--connection", "bad name"])
        #expect(usage.status == 2)
        #expect(try await sandbox.run(["mcp", "nosuchprovider"]).status == 3)
    }
}
