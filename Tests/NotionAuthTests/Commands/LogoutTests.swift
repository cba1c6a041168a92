@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// `logout`: revocation at the provider, then removal from the vault.
@Suite struct LogoutTests {
    @Test(arguments: StoreKind.allCases)
    func logoutRevokesAtTheServerAndDeletesLocally(store: StoreKind) async throws {
        let setup = try await BrowserLoginSetup.loggedIn()
        defer { setup.server.stopNow() }
        if store == .postgres { try await setup.sandbox.moveToPostgres() }
        let stored = try await setup.sandbox.storedConnection()
        let access = try #require(stored["access_token"]?.stringValue)
        let result = try await setup.sandbox.run(["logout", "notion"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(setup.server.requestCount(path: "/v1/oauth/revoke") == 1)
        #expect(!setup.server.isActive(token: access))
        #expect(try await setup.sandbox.run(["get", "notion", "--field", "status"]).stdout == "not_connected\n")
        #expect(try await setup.sandbox.run(["logout", "notion"]).status == 3)
    }

    @Test(arguments: StoreKind.allCases)
    func aFailedRevocationStillDeletesLocallyAndWarns(store: StoreKind) async throws {
        let setup = try await BrowserLoginSetup.loggedIn()
        defer { setup.server.stopNow() }
        if store == .postgres { try await setup.sandbox.moveToPostgres() }
        setup.server.failNext(path: "/v1/oauth/revoke", status: 500, body: #"{"object":"error","status":500,"code":"internal_server_error","message":"boom"}"#)
        let result = try await setup.sandbox.run(["logout", "notion"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("warning:"))
        #expect(result.stderr.contains("boom"))
        #expect(try await setup.sandbox.run(["get", "notion", "--field", "status"]).stdout == "not_connected\n")
    }

    @Test(arguments: StoreKind.allCases)
    func logoutAllRemovesEveryConnectionAndTheClient(store: StoreKind) async throws {
        let setup = try await BrowserLoginSetup.loggedIn()
        defer { setup.server.stopNow() }
        if store == .postgres { try await setup.sandbox.moveToPostgres() }
        #expect(try await setup.sandbox.run(["login", "notion", "--with-token", "--no-verify", "--connection", "second"], stdin: "ntn_second_token_abcdefg").status == 0)
        let result = try await setup.sandbox.run(["logout", "notion", "--all", "--keep-remote"])
        #expect(result.status == 0)
        #expect(setup.server.requestCount(path: "/v1/oauth/revoke") == 0)
        let status = try await setup.sandbox.run(["store", "status", "--json"])
        let counts = try JSONValue.parse(Array(status.stdout.utf8))["store"]
        #expect(counts?["connections"] == .int(0), "\(status.stdout) \(status.stderr)")
        #expect(counts?["clients"] == .int(0))
    }
}
