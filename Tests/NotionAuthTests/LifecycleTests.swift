@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthKit

/// Refresh, revocation, status, logout, run and api against the fake Notion server.
@Suite struct LifecycleTests {
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
        let setup = try await BrowserLoginSetup.loggedIn(lifetime: 120)
        defer { setup.server.stopNow() }
        let oldToken = try await setup.sandbox.storedConnection()["access_token"]?.stringValue
        let fresh = try await setup.accessToken()
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
    }

    @Test func twentyConcurrentGetsCauseExactlyOneRefresh() async throws {
        let setup = try await BrowserLoginSetup.loggedIn(lifetime: 120)
        defer { setup.server.stopNow() }
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
    }

    @Test func aRefusedRefreshTokenMarksTheConnectionRevoked() async throws {
        let setup = try await BrowserLoginSetup.loggedIn(lifetime: 120)
        defer { setup.server.stopNow() }
        let stored = try await setup.sandbox.storedConnection()
        setup.server.revokeServerSide(token: try #require(stored["refresh_token"]?.stringValue))
        let result = try await setup.sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(result.status == 4)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("revoked"))
        #expect(result.stderr.contains("notionauth login notion --force"))
        #expect(try await setup.sandbox.run(["get", "notion", "--field", "status"]).stdout == "revoked\n")
    }

    @Test func aNetworkFailureDuringRefreshLeavesAStillValidTokenUsable() async throws {
        let setup = try await BrowserLoginSetup.loggedIn(lifetime: 120)
        defer { setup.server.stopNow() }
        let old = try await setup.sandbox.storedConnection()["access_token"]?.stringValue
        try await setup.server.stop()
        let result = try await setup.sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(result.status == 0)
        #expect(result.stdout == (old ?? "") + "\n")
        #expect(result.stderr.contains("could not refresh"))
    }

    @Test func aServerErrorDuringRefreshAlsoKeepsAStillValidToken() async throws {
        let setup = try await BrowserLoginSetup.loggedIn(lifetime: 120)
        defer { setup.server.stopNow() }
        let old = try await setup.sandbox.storedConnection()["access_token"]?.stringValue
        setup.server.failNext(path: "/v1/oauth/token", status: 503, body: #"{"object":"error","status":503,"code":"service_unavailable","message":"try later"}"#)
        let result = try await setup.sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == (old ?? "") + "\n")
        #expect(result.stderr.contains("could not refresh"))
    }

    @Test func a401FromTheAPIRefreshesAndRetriesOnce() async throws {
        let setup = try await BrowserLoginSetup.loggedIn()
        defer { setup.server.stopNow() }
        let old = try await setup.accessToken()
        setup.server.revokeServerSide(token: old)
        let result = try await setup.sandbox.run(["api", "/v1/users/me"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"object\":\"user\"") || result.stdout.contains("\"object\": \"user\""))
        #expect(setup.server.refreshRequestCount() == 1)
        #expect(try await setup.accessToken() != old)
    }

    @Test func apiRetriesAfter429AndExplainsNotFoundAndRestricted() async throws {
        let setup = try await BrowserLoginSetup.loggedIn()
        defer { setup.server.stopNow() }
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
    }

    @Test func apiExits4WhenTheTokenIsRefusedAndCannotBeRefreshed() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_internal_for_api_0001", workspace: "W")
        defer { setup.server.stopNow() }
        let (server, sandbox) = (setup.server, setup.sandbox)
        server.revokeServerSide(token: "ntn_internal_for_api_0001")
        let result = try await sandbox.run(["api", "/v1/users/me"])
        #expect(result.status == 4)
        #expect(try await sandbox.run(["get", "notion", "--field", "status"]).stdout == "invalid\n")
    }

    @Test func statusReportsEachStateAndUpdatesTheStoredOne() async throws {
        let setup = try await BrowserLoginSetup.loggedIn()
        defer { setup.server.stopNow() }
        setup.server.addInternalToken("ntn_internal_status_0001", botID: "b", workspaceName: "W")
        #expect(try await setup.sandbox.run(["login", "notion", "--with-token", "--connection", "internal"], stdin: "ntn_internal_status_0001").status == 0)

        let healthy = try await setup.sandbox.run(["status", "--json"])
        #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
        #expect(healthy.stdout.contains("checked by introspection"))
        #expect(setup.server.requestCount(path: "/v1/oauth/introspect") == 1)

        setup.server.revokeServerSide(token: "ntn_internal_status_0001")
        let stored = try await setup.sandbox.storedConnection()
        setup.server.revokeServerSide(token: try #require(stored["refresh_token"]?.stringValue))
        setup.server.revokeServerSide(token: try #require(stored["access_token"]?.stringValue))
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
    }

    @Test func statusOfAConnectionNoProviderHasIsExit3() async throws {
        let sandbox = try Sandbox()
        let result = try await sandbox.run(["status", "--connection", "nope"])
        #expect(result.status == 3)
    }

    @Test func statusSaysUnreachableWhenTheProviderIsDown() async throws {
        let setup = try await BrowserLoginSetup.loggedIn()
        defer { setup.server.stopNow() }
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
        let setup = try await BrowserLoginSetup.loggedIn()
        defer { setup.server.stopNow() }
        let stored = try await setup.sandbox.storedConnection()
        let access = try #require(stored["access_token"]?.stringValue)
        let result = try await setup.sandbox.run(["logout", "notion"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(setup.server.requestCount(path: "/v1/oauth/revoke") == 1)
        #expect(!setup.server.isActive(token: access))
        #expect(try await setup.sandbox.run(["get", "notion", "--field", "status"]).stdout == "not_connected\n")
        #expect(try await setup.sandbox.run(["logout", "notion"]).status == 3)
    }

    @Test func aFailedRevocationStillDeletesLocallyAndWarns() async throws {
        let setup = try await BrowserLoginSetup.loggedIn()
        defer { setup.server.stopNow() }
        setup.server.failNext(path: "/v1/oauth/revoke", status: 500, body: #"{"object":"error","status":500,"code":"internal_server_error","message":"boom"}"#)
        let result = try await setup.sandbox.run(["logout", "notion"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("warning:"))
        #expect(result.stderr.contains("boom"))
        #expect(try await setup.sandbox.run(["get", "notion", "--field", "status"]).stdout == "not_connected\n")
    }

    @Test func logoutAllRemovesEveryConnectionAndTheClient() async throws {
        let setup = try await BrowserLoginSetup.loggedIn()
        defer { setup.server.stopNow() }
        #expect(try await setup.sandbox.run(["login", "notion", "--with-token", "--no-verify", "--connection", "second"], stdin: "ntn_second_token_abcdefg").status == 0)
        let result = try await setup.sandbox.run(["logout", "notion", "--all", "--keep-remote"])
        #expect(result.status == 0)
        #expect(setup.server.requestCount(path: "/v1/oauth/revoke") == 0)
        let vault = await setup.sandbox.vault()
        #expect(try vault.open().connectionCount == 0)
        #expect(try vault.open().clientCredentials(provider: "notion") == nil)
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
