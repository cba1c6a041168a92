@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// `status`: a live check of every connection against its provider, and of file permissions.
@Suite struct StatusTests {
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

    @Test func statusTellsHowToFixAVaultOthersCanRead() async throws {
        let sandbox = try Sandbox()
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_perm_check_token_abc").status == 0)
        chmod(sandbox.vaultPath, 0o644)
        let result = try await sandbox.run(["status", "notion-mcp"])
        #expect(result.stderr.contains("chmod 600 \(sandbox.vaultPath)"))
    }

    @Test func aTokenObtainedThisSecondReadsJustNowNotIn0s() async throws {
        #expect(Timestamp.relative(1_790_000_000, now: 1_790_000_000) == "just now")
        #expect(Timestamp.relative(1_790_000_005, now: 1_790_000_000) == "in 5s")
        #expect(Timestamp.relative(1_789_999_995, now: 1_790_000_000) == "5s ago")
        let sandbox = try Sandbox()
        let connection = Connection(provider: "notion", name: "default", kind: .token, accessToken: "ntn_x", obtainedAt: 1_790_000_000)
        try await sandbox.storeRecords([connection.recordName: connection])
        // A provider with no identity endpoint: status reports without asking anyone.
        let json = try String(contentsOfFile: Binary.repositoryRoot + "/providers/notion.json", encoding: .utf8)
            .replacingOccurrences(of: #","# + "\n" + #"    "identity_path": "/v1/users/me""#, with: "")
        try sandbox.writeProvider("notion", json)
        let status = await sandbox.runInProcess(["status", "notion"])
        #expect(status.stdout.contains("just now"), "\(status.stdout)\(status.stderr)")
        #expect(!status.stdout.contains("in 0s"))
    }
}
