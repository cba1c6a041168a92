@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// Refresh, revocation, status, logout, run and api against the fake Notion server.
@Suite struct LifecycleTests {
    /// A sandbox logged in to the fake Notion through the real browser flow.
    static func loggedIn(lifetime: Int? = nil) async throws -> LoginBrowserTests.Setup {
        let setup = try await LoginBrowserTests.setUp()
        setup.server.setAccessTokenLifetime(seconds: lifetime)
        let running = try RunningLogin(setup.sandbox, ["login", "notion", "--no-browser", "--port", String(setup.port), "--timeout", "20", "--client-id", "client-1", "--client-secret-stdin"], stdin: "s3cret-value")
        let location = try #require(try await setup.server.authorizeLikeABrowser(url: try await running.printedURL()).location)
        #expect(try await Browserless.request(location).status == 200)
        #expect(try await running.finish().status == 0)
        if lifetime != nil { try await makeDue(setup.sandbox) }
        return setup
    }

    /// Ages the stored token so it is due for refresh: issued 90 s ago, 30 s left of 120.
    static func makeDue(_ sandbox: Sandbox) async throws {
        let vault = Session(context: await contextFor(sandbox), global: GlobalOptions()).vault
        let now = Int64(Date().timeIntervalSince1970)
        try vault.update { (contents: inout VaultContents) throws(NotionauthError) in
            guard var connection = try contents.connection(provider: "notion", name: "default", path: vault.path) else { return }
            connection.obtainedAt = now - 90
            connection.refreshedAt = nil
            connection.expiresAt = now + 30
            contents.store(connection)
        }
    }

    static func token(_ setup: LoginBrowserTests.Setup) async throws -> String {
        let result = try await setup.sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .newlines)
    }

    @Test func refreshIsDueFiveMinutesAheadOrInTheSecondHalfOfAShortLife() {
        var hour = Connection(provider: "notion", name: "a", kind: .oauth, accessToken: "t", obtainedAt: 0)
        hour.expiresAt = 3600
        #expect(!TokenRefresh.isDue(hour, now: 3299))
        #expect(TokenRefresh.isDue(hour, now: 3300))
        var short = hour
        short.expiresAt = 120
        #expect(!TokenRefresh.isDue(short, now: 59))
        #expect(TokenRefresh.isDue(short, now: 60))
        var noExpiry = hour
        noExpiry.expiresAt = nil
        #expect(!TokenRefresh.isDue(noExpiry, now: 1_000_000))
    }

    @Test func aTokenAboutToExpireIsRefreshedBeforeItIsHandedOut() async throws {
        let setup = try await Self.loggedIn(lifetime: 120)
        let before = try #require(try await setup.sandbox.run(["get", "notion", "--json", "--show-secrets"]).stdout.data(using: .utf8))
        let oldToken = try JSONValue.parse(Array(before))["connection"]?["access_token"]?.stringValue
        let fresh = try await Self.token(setup)
        #expect(fresh != oldToken)
        #expect(setup.server.isActive(token: fresh))
        #expect(setup.server.refreshRequestCount() == 1)
        let body = try JSONValue.parse(try #require(setup.server.lastRequest(path: "/v1/oauth/token")).body)
        #expect(body["grant_type"] == .string("refresh_token"))
        let json = try JSONValue.parse(Array(try await setup.sandbox.run(["get", "notion", "--json"]).stdout.utf8))
        #expect(json["connection"]?["refreshed_at"] != nil)
        // export refreshes too, and hands out what get stored.
        let exported = try await setup.sandbox.run(["export", "notion"])
        #expect(exported.stdout.contains("ntn_"))
        try await setup.server.stop()
    }

    @Test func twentyConcurrentGetsCauseExactlyOneRefresh() async throws {
        let setup = try await Self.loggedIn(lifetime: 120)
        setup.server.setTokenEndpointDelay(milliseconds: 300)
        let processes = try (0..<20).map { _ in
            try Binary.start(Binary.notionauth, ["get", "notion", "--field", "access_token"], stdin: nil, environment: setup.sandbox.environment, directory: setup.sandbox.root)
        }
        var tokens = Set<String>()
        for started in processes {
            try await Binary.wait(started.process, timeoutSeconds: 60)
            let result = Binary.collect(started)
            #expect(result.status == 0, "\(result.stderr)")
            tokens.insert(result.stdout)
        }
        #expect(tokens.count == 1, "every process hands out the same new token")
        #expect(setup.server.refreshRequestCount() == 1)
        #expect(setup.server.isActive(token: tokens.first!.trimmingCharacters(in: .newlines)))
        try await setup.server.stop()
    }

    @Test func aRefusedRefreshTokenMarksTheConnectionRevoked() async throws {
        let setup = try await Self.loggedIn(lifetime: 120)
        let stored = try JSONValue.parse(Array(try await setup.sandbox.run(["get", "notion", "--json", "--show-secrets"]).stdout.utf8))
        setup.server.revokeServerSide(token: try #require(stored["connection"]?["refresh_token"]?.stringValue))
        let result = try await setup.sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(result.status == 4)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("revoked"))
        #expect(result.stderr.contains("notionauth login notion --force"))
        #expect(try await setup.sandbox.run(["get", "notion", "--field", "status"]).stdout == "revoked\n")
        try await setup.server.stop()
    }

    @Test func aNetworkFailureDuringRefreshLeavesAStillValidTokenUsable() async throws {
        let setup = try await Self.loggedIn(lifetime: 120)
        let old = try JSONValue.parse(Array(try await setup.sandbox.run(["get", "notion", "--json", "--show-secrets"]).stdout.utf8))["connection"]?["access_token"]?.stringValue
        try await setup.server.stop()
        let result = try await setup.sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(result.status == 0)
        #expect(result.stdout == (old ?? "") + "\n")
        #expect(result.stderr.contains("could not refresh"))
    }

    @Test func aServerErrorDuringRefreshAlsoKeepsAStillValidToken() async throws {
        let setup = try await Self.loggedIn(lifetime: 120)
        let old = try JSONValue.parse(Array(try await setup.sandbox.run(["get", "notion", "--json", "--show-secrets"]).stdout.utf8))["connection"]?["access_token"]?.stringValue
        setup.server.failNext(path: "/v1/oauth/token", status: 503, body: #"{"object":"error","status":503,"code":"service_unavailable","message":"try later"}"#)
        let result = try await setup.sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == (old ?? "") + "\n")
        #expect(result.stderr.contains("could not refresh"))
        try await setup.server.stop()
    }

    @Test func a401FromTheAPIRefreshesAndRetriesOnce() async throws {
        let setup = try await Self.loggedIn()
        let old = try await Self.token(setup)
        setup.server.revokeServerSide(token: old)
        let result = try await setup.sandbox.run(["api", "/v1/users/me"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"object\":\"user\"") || result.stdout.contains("\"object\": \"user\""))
        #expect(setup.server.refreshRequestCount() == 1)
        #expect(try await Self.token(setup) != old)
        try await setup.server.stop()
    }

    @Test func apiRetriesAfter429AndExplainsNotFoundAndRestricted() async throws {
        let setup = try await Self.loggedIn()
        setup.server.failNext(path: "/v1/search", status: 429, body: #"{"object":"error","status":429,"code":"rate_limited","message":"Slow down."}"#, headers: [("Retry-After", "1")])
        let search = try await setup.sandbox.run(["api", "-X", "POST", "/v1/search", "--data", #"{"query":"roadmap"}"#])
        #expect(search.status == 0, "\(search.stderr)")
        #expect(setup.server.requestCount(path: "/v1/search") == 2)
        let request = try #require(setup.server.lastRequest(path: "/v1/search"))
        #expect(String(decoding: request.body, as: UTF8.self) == #"{"query":"roadmap"}"#)
        #expect(request.headers["notion-version"] == "2025-09-03")

        let missing = try await setup.sandbox.run(["api", "/v1/pages/missing"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("object_not_found"))
        #expect(missing.stderr.contains("not be shared with the integration"))
        let restricted = try await setup.sandbox.run(["api", "/v1/pages/restricted", "--notion-version", "2026-03-11"])
        #expect(restricted.status == 1)
        #expect(restricted.stderr.contains("capability"))
        #expect(setup.server.lastRequest(path: "/v1/pages/restricted")?.headers["notion-version"] == "2026-03-11")
        try await setup.server.stop()
    }

    @Test func apiExits4WhenTheTokenIsRefusedAndCannotBeRefreshed() async throws {
        let server = try await FakeNotionServer.start()
        let sandbox = try Sandbox()
        try LoginWithTokenTests.pointNotion(at: server, in: sandbox)
        server.addInternalToken("ntn_internal_for_api_0001", botID: "b", workspaceName: "W")
        #expect(try await sandbox.run(["login", "notion", "--with-token"], stdin: "ntn_internal_for_api_0001").status == 0)
        server.revokeServerSide(token: "ntn_internal_for_api_0001")
        let result = try await sandbox.run(["api", "/v1/users/me"])
        #expect(result.status == 4)
        #expect(try await sandbox.run(["get", "notion", "--field", "status"]).stdout == "invalid\n")
        try await server.stop()
    }

    @Test func statusReportsEachStateAndUpdatesTheStoredOne() async throws {
        let setup = try await Self.loggedIn()
        setup.server.addInternalToken("ntn_internal_status_0001", botID: "b", workspaceName: "W")
        #expect(try await setup.sandbox.run(["login", "notion", "--with-token", "--connection", "internal"], stdin: "ntn_internal_status_0001").status == 0)

        let healthy = try await setup.sandbox.run(["status", "--json"])
        #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
        #expect(healthy.stdout.contains("checked by introspection"))
        #expect(setup.server.requestCount(path: "/v1/oauth/introspect") == 1)

        setup.server.revokeServerSide(token: "ntn_internal_status_0001")
        let stored = try JSONValue.parse(Array(try await setup.sandbox.run(["get", "notion", "--json", "--show-secrets"]).stdout.utf8))
        setup.server.revokeServerSide(token: try #require(stored["connection"]?["refresh_token"]?.stringValue))
        setup.server.revokeServerSide(token: try #require(stored["connection"]?["access_token"]?.stringValue))
        let broken = try await setup.sandbox.run(["status", "notion", "--json"])
        #expect(broken.status == 4)
        let json = try JSONValue.parse(Array(broken.stdout.utf8))
        guard case let .array(rows)? = json["connections"] else { Issue.record("no rows"); return }
        let byName = Dictionary(uniqueKeysWithValues: rows.map { ($0["connection"]!.stringValue!, $0["status"]!.stringValue!) })
        #expect(byName == ["default": "revoked", "internal": "invalid"])
        #expect(try await setup.sandbox.run(["get", "notion", "--field", "status"]).stdout == "revoked\n")
        #expect(try await setup.sandbox.run(["get", "notion", "--connection", "internal", "--field", "status"]).stdout == "invalid\n")

        let none = try await setup.sandbox.run(["status", "notion-mcp"])
        #expect(none.status == 4)
        #expect(none.stdout.contains("not_connected"))
        try await setup.server.stop()
    }

    @Test func statusOfAConnectionNoProviderHasIsExit3() async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["status", "--connection", "nope"])
        #expect(result.status == 3)
    }

    @Test func statusSaysUnreachableWhenTheProviderIsDown() async throws {
        let setup = try await Self.loggedIn()
        try await setup.server.stop()
        let result = try await setup.sandbox.run(["status"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("unreachable"))
    }

    @Test func statusChecksFilePermissions() async throws {
        let sandbox = try Sandbox()
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_perm_check_token_abc").status == 0)
        chmod(sandbox.vaultPath, 0o644)
        let result = try await sandbox.run(["status", "notion-mcp"])
        #expect(result.stderr.contains("chmod 600 \(sandbox.vaultPath)"))
    }

    @Test func logoutRevokesAtTheServerAndDeletesLocally() async throws {
        let setup = try await Self.loggedIn()
        let stored = try JSONValue.parse(Array(try await setup.sandbox.run(["get", "notion", "--json", "--show-secrets"]).stdout.utf8))
        let access = try #require(stored["connection"]?["access_token"]?.stringValue)
        let result = try await setup.sandbox.run(["logout", "notion"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(setup.server.requestCount(path: "/v1/oauth/revoke") == 1)
        #expect(!setup.server.isActive(token: access))
        #expect(try await setup.sandbox.run(["get", "notion", "--field", "status"]).stdout == "not_connected\n")
        #expect(try await setup.sandbox.run(["logout", "notion"]).status == 3)
        try await setup.server.stop()
    }

    @Test func aFailedRevocationStillDeletesLocallyAndWarns() async throws {
        let setup = try await Self.loggedIn()
        setup.server.failNext(path: "/v1/oauth/revoke", status: 500, body: #"{"object":"error","status":500,"code":"internal_server_error","message":"boom"}"#)
        let result = try await setup.sandbox.run(["logout", "notion"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("warning:"))
        #expect(result.stderr.contains("boom"))
        #expect(try await setup.sandbox.run(["get", "notion", "--field", "status"]).stdout == "not_connected\n")
        try await setup.server.stop()
    }

    @Test func logoutAllRemovesEveryConnectionAndTheClient() async throws {
        let setup = try await Self.loggedIn()
        #expect(try await setup.sandbox.run(["login", "notion", "--with-token", "--no-verify", "--connection", "second"], stdin: "ntn_second_token_abcdefg").status == 0)
        let result = try await setup.sandbox.run(["logout", "notion", "--all", "--keep-remote"])
        #expect(result.status == 0)
        #expect(setup.server.requestCount(path: "/v1/oauth/revoke") == 0)
        let vault = Session(context: await contextFor(setup.sandbox), global: GlobalOptions()).vault
        #expect(try vault.open().connectionCount == 0)
        #expect(try vault.open().clientCredentials(provider: "notion") == nil)
        try await setup.server.stop()
    }

    @Test func runPassesTheEnvironmentAndTheExitStatus() async throws {
        let sandbox = try Sandbox()
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_run_token_abcdefghij").status == 0)
        let result = try await sandbox.run(["run", "notion", "--", "sh", "-c", "printf '%s|%s' \"$NOTION_ACCESS_TOKEN\" \"$NOTION_TOKEN\"; exit 7"])
        #expect(result.status == 7)
        #expect(result.stdout == "ntn_run_token_abcdefghij|ntn_run_token_abcdefghij")
        let all = try await sandbox.run(["run", "--", "sh", "-c", "test -n \"$NOTION_ACCESS_TOKEN\""])
        #expect(all.status == 0)
        let nested = try await sandbox.run(["run", "--", "sh", "-c", "exec \"$0\" run -- true", Binary.notionauth])
        #expect(nested.status == 2)
        #expect(nested.stderr.contains("--allow-nested"))
        let allowed = try await sandbox.run(["run", "--", "sh", "-c", "exec \"$0\" run --allow-nested -- true", Binary.notionauth])
        #expect(allowed.status == 0)
        let missing = try await sandbox.run(["run", "--", "no-such-command-here"])
        #expect(missing.status == 1)
        // The child gets tokens, never what opens the vault or a client secret.
        let secrets = ["NOTIONAUTH_PASSPHRASE": "pp", "NOTION_CLIENT_SECRET": "cs", "NOTIONAUTH_PASSPHRASE_FD": "9"]
        let env = try await sandbox.run(["run", "--", "env"], environment: secrets)
        #expect(env.status == 0)
        for name in secrets.keys { #expect(!env.stdout.contains(name + "="), "\(name)") }
        #expect(env.stdout.contains("NOTION_ACCESS_TOKEN=ntn_run_token_abcdefghij"))
        // A --json meant for the child does not turn notionauth's own errors into JSON.
        let childJSON = try await Sandbox().run(["run", "notion", "--", "echo", "--json"])
        #expect(childJSON.stderr.hasPrefix("error: "))
    }

    @Test func runForwardsSIGTERMToTheChild() async throws {
        let sandbox = try Sandbox()
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_run_signal_abcdefghij").status == 0)
        let marker = sandbox.root + "/got-term"
        let started = try Binary.start(Binary.notionauth, ["run", "--", "sh", "-c", "trap 'touch \"$0\"; exit 42' TERM; while :; do sleep 0.05; done", marker], stdin: nil, environment: sandbox.environment, directory: sandbox.root)
        try await Task.sleep(nanoseconds: 500_000_000)
        kill(started.process.processIdentifier, SIGTERM)
        try await Binary.wait(started.process, timeoutSeconds: 10)
        #expect(started.process.terminationStatus == 42)
        #expect(FileManager.default.fileExists(atPath: marker))
    }
}
