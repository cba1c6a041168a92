@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

@Suite struct LoginWithTokenTests {
    @Test(arguments: StoreKind.allCases)
    func verifiedTokenStoresWhatTheIdentityEndpointSays(store: StoreKind) async throws {
        let server = try await FakeNotionServer.start()
        defer { server.stopNow() }
        let sandbox = try await Sandbox.make(store)
        try sandbox.pointNotion(at: server.baseURL)
        server.addInternalToken("ntn_internal_valid_token_0001", botID: "bot-123", workspaceName: "Acme Corp")

        let result = try await sandbox.run(["login", "notion", "--with-token"], stdin: "ntn_internal_valid_token_0001\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("Logged in to Notion (workspace Acme Corp) as connection 'default'"))
        #expect(!result.stderr.contains("ntn_internal_valid_token_0001"))
        let request = try #require(server.lastRequest(path: "/v1/users/me"))
        #expect(request.headers["authorization"] == "Bearer ntn_internal_valid_token_0001")
        #expect(request.headers["notion-version"] == "2025-09-03")

        let json = try JSONValue.parse(Array(try await sandbox.run(["get", "notion", "--json"]).stdout.utf8))
        #expect(json["connection"]?["bot_id"] == .string("bot-123"))
        #expect(json["connection"]?["workspace_name"] == .string("Acme Corp"))
        #expect(json["connection"]?["kind"] == .string("token"))
    }

    @Test(arguments: StoreKind.allCases)
    func refusedTokenIsExit4AndNothingIsStored(store: StoreKind) async throws {
        let server = try await FakeNotionServer.start()
        defer { server.stopNow() }
        let sandbox = try await Sandbox.make(store)
        try sandbox.pointNotion(at: server.baseURL)
        let result = try await sandbox.run(["login", "notion", "--with-token"], stdin: "ntn_not_a_valid_token_00000")
        #expect(result.status == 4)
        #expect(result.stderr.contains("Notion refused the token: API token is invalid. (unauthorized)"))
        #expect(!result.stderr.contains("ntn_not_a_valid_token_00000"))
        #expect(try await sandbox.storeIsEmpty())
    }

    @Test func notionVersionEnvironmentOverridesTheDefault() async throws {
        let server = try await FakeNotionServer.start()
        defer { server.stopNow() }
        let sandbox = try Sandbox()
        try sandbox.pointNotion(at: server.baseURL)
        server.addInternalToken("ntn_internal_valid_token_0002", botID: "bot-2", workspaceName: nil)
        let result = try await sandbox.run(["login", "notion", "--with-token"], stdin: "ntn_internal_valid_token_0002", environment: ["NOTION_VERSION": "2026-03-11"])
        #expect(result.status == 0)
        #expect(server.lastRequest(path: "/v1/users/me")?.headers["notion-version"] == "2026-03-11")
    }

    @Test func unreachableServerIsExit1WithTheHost() async throws {
        let sandbox = try Sandbox()
        try sandbox.pointNotion(at: "http://127.0.0.1:9")
        let result = try await sandbox.run(["login", "notion", "--with-token"], stdin: "ntn_whatever_token_abcdef")
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot reach 127.0.0.1"))
    }

    @Test(arguments: StoreKind.allCases)
    func unexpectedPrefixWarnsButStores(store: StoreKind) async throws {
        let sandbox = try await Sandbox.make(store)
        let result = await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify"], stdin: "pat_something_else_abcdef")
        #expect(result.status == 0)
        #expect(result.stderr.contains("warning: the token does not start with ntn_ or secret_; storing it anyway"))
        #expect(await sandbox.runInProcess(["get", "notion", "--field", "access_token"]).stdout == "pat_something_else_abcdef\n")
    }

    @Test func emptyOrMultiLineInputIsAUsageError() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify"], stdin: "\n").status == 2)
        #expect(await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify"], stdin: "a\nb").status == 2)
    }

    @Test func noTokenAndNoTerminalFailsAtOnce() async throws {
        let sandbox = try Sandbox()
        // stdin is /dev/null: not a terminal, nothing to read.
        let result = try await sandbox.run(["login", "notion", "--with-token", "--no-verify"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no token on standard input"))
    }

    @Test(arguments: StoreKind.allCases)
    func tokenNeverAppearsInArgvOrOutput(store: StoreKind) async throws {
        let sandbox = try await Sandbox.make(store)
        let result = try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_secret_value_never_shown")
        #expect(!result.stdout.contains("ntn_secret_value_never_shown"))
        #expect(!result.stderr.contains("ntn_secret_value_never_shown"))
        #expect(!(try await sandbox.run(["list"]).stdout.contains("ntn_secret_value_never_shown")))
    }

    @Test(arguments: ["ntn_secret\u{01}part", "ntn_secret\u{7F}part", "ntn_secret\u{85}part", "ntn_secret\r\nX-Injected: 1"])
    func aPastedTokenWithControlCharactersIsRefusedWithoutRepeatingIt(token: String) async throws {
        let server = try await FakeNotionServer.start()
        defer { server.stopNow() }
        let sandbox = try Sandbox()
        try sandbox.pointNotion(at: server.baseURL)
        let result = try await sandbox.run(["login", "notion", "--with-token"], stdin: token)
        #expect(result.status == 2)
        #expect(result.stderr.contains("control characters"))
        #expect(!result.stderr.contains("ntn_secret"))
        #expect(!result.stderr.contains("Bearer"))
        #expect(server.requestCount(path: "/v1/users/me") == 0)
    }
}
