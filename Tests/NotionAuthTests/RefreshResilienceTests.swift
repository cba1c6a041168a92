@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// A refresh rotates the token pair at the provider: nothing that happens after that (a full
/// disk, a lost answer) may lose the new pair, and nothing short of the provider refusing the
/// refresh token may refuse a token that is still valid.
@Suite struct RefreshResilienceTests {
    @Test func aFullDiskStopsTheRefreshBeforeTheProviderIsAskedAndItRefreshesOnceThereIsSpace() async throws {
        // A real ENOSPC: the vault lives on a 1 MiB tmpfs that the test fills up.
        try #require(geteuid() == 0, "mounting a tmpfs needs root (CI and the development machine run as root)")
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let sandbox = setup.sandbox
        try FileManager.default.createDirectory(atPath: sandbox.config, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Shell.run("mount -t tmpfs -o size=1m,mode=0700 notionauth-test '\(sandbox.config)'")
        defer { try? Shell.run("umount '\(sandbox.config)'") }
        try sandbox.pointNotion(at: setup.server.baseURL)
        setup.server.setAccessTokenLifetime(seconds: 120)
        #expect(try await setup.login().completeInBrowser(at: setup.server).status == 0)
        try await sandbox.makeDue(provider: "notion")
        let before = try await sandbox.storedConnection(provider: "notion")

        // dd stops with ENOSPC when the file system is full; that is the point.
        try? Shell.run("dd if=/dev/zero of='\(sandbox.config)/filler' bs=4096 2>/dev/null")
        let full = try await sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(full.status == 0, "a token that is still valid is handed out: \(full.stderr)")
        #expect(full.stdout == (before["access_token"]?.stringValue ?? "?") + "\n")
        #expect(full.stderr.contains("no disk space"))
        #expect(setup.server.refreshRequestCount() == 0, "the provider must not rotate a pair that could not be saved")
        #expect(try await sandbox.storedConnection(provider: "notion")["refresh_token"] == before["refresh_token"])

        try FileManager.default.removeItem(atPath: "\(sandbox.config)/filler")
        let fresh = try await sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(fresh.stdout != full.stdout)
        #expect(setup.server.refreshRequestCount() == 1)
        #expect(setup.server.isActive(token: fresh.stdout.trimmingCharacters(in: .newlines)))
        #expect(try await sandbox.run(["get", "notion", "--field", "status"]).stdout == "connected\n")
    }

    @Test func anExpiredTokenOnAFullDiskIsAClearErrorAndTheConnectionIsNotRevoked() async throws {
        try #require(geteuid() == 0, "mounting a tmpfs needs root")
        let setup = try await BrowserLoginSetup.loggedIn(lifetime: 120)
        defer { setup.server.stopNow() }
        let sandbox = setup.sandbox
        // Move the logged-in config onto a small tmpfs, then fill it.
        let saved = sandbox.root + "/saved-config"
        try FileManager.default.moveItem(atPath: sandbox.config, toPath: saved)
        try FileManager.default.createDirectory(atPath: sandbox.config, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Shell.run("mount -t tmpfs -o size=1m,mode=0700 notionauth-test '\(sandbox.config)' && cp -a '\(saved)'/. '\(sandbox.config)'/")
        defer { try? Shell.run("umount '\(sandbox.config)'") }
        let vault = await sandbox.vault()
        try vault.update { (contents: inout VaultContents) throws(NotionauthError) in
            guard var connection = try contents.connection(provider: "notion", name: "default", path: vault.path) else { return }
            connection.expiresAt = Int64(Date().timeIntervalSince1970) - 10
            contents.store(connection)
        }
        try? Shell.run("dd if=/dev/zero of='\(sandbox.config)/filler' bs=4096 2>/dev/null")
        let full = try await sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(full.status == 1)
        #expect(full.stdout.isEmpty)
        #expect(full.stderr.contains("no space left"))
        #expect(setup.server.refreshRequestCount() == 0)
        try FileManager.default.removeItem(atPath: "\(sandbox.config)/filler")
        let fresh = try await sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(setup.server.refreshRequestCount() == 1)
    }

    @Test func aLostRefreshAnswerIsAskedForAgainWithThePreviousRefreshToken() async throws {
        let setup = try await MCPLoginSetup.loggedIn()
        defer { setup.server.stopNow() }
        setup.server.setPreviousRefreshTokenGrace(true)
        let before = try await setup.sandbox.storedConnection(provider: "notion-mcp")
        setup.server.dropNextAnswer(path: "/token")
        let result = try await setup.sandbox.run(["get", "notion-mcp", "--field", "access_token"])
        #expect(result.status == 0, "\(result.stderr)")
        let token = result.stdout.trimmingCharacters(in: .newlines)
        #expect(token != before["access_token"]?.stringValue)
        #expect(setup.server.isActive(token: token))
        let refreshes = setup.server.requests(path: "/token").filter { $0.formBody["grant_type"] == "refresh_token" }
        #expect(refreshes.count == 2)
        #expect(refreshes.allSatisfy { $0.formBody["refresh_token"] == before["refresh_token"]?.stringValue })
        // The pair kept is the one from the retry, and it refreshes normally later.
        try await setup.sandbox.makeDue(provider: "notion-mcp")
        let later = try await setup.sandbox.run(["get", "notion-mcp", "--field", "access_token"])
        #expect(later.status == 0, "\(later.stderr)")
        #expect(setup.server.isActive(token: later.stdout.trimmingCharacters(in: .newlines)))
    }

    @Test func aLostAnswerThatTheServerWillNotRepeatEndsInRevokedOnlyAfterTheRetry() async throws {
        let setup = try await MCPLoginSetup.loggedIn()
        defer { setup.server.stopNow() }
        setup.server.dropNextAnswer(path: "/token")
        let result = try await setup.sandbox.run(["get", "notion-mcp", "--field", "access_token"])
        #expect(result.status == 4)
        #expect(result.stderr.contains("revoked"))
        #expect(setup.server.refreshRequestCount() == 2)
    }

    @Test func aDueTokenWhoseClientIsGoneIsHandedOutWithAWarning() async throws {
        let setup = try await BrowserLoginSetup.loggedIn(lifetime: 120)
        defer { setup.server.stopNow() }
        let before = try await setup.sandbox.storedConnection(provider: "notion")
        let vault = await setup.sandbox.vault()
        try vault.update { (contents: inout VaultContents) throws(NotionauthError) in
            contents.removeClientCredentials(provider: "notion")
        }
        let result = try await setup.sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == (before["access_token"]?.stringValue ?? "?") + "\n")
        #expect(result.stderr.contains("still valid"))
        #expect(setup.server.refreshRequestCount() == 0)
    }

    @Test func aRefusedClientDuringRefreshStillHandsOutAValidToken() async throws {
        let setup = try await BrowserLoginSetup.loggedIn(lifetime: 120)
        defer { setup.server.stopNow() }
        let before = try await setup.sandbox.storedConnection(provider: "notion")
        setup.server.failNext(path: "/v1/oauth/token", status: 401, body: #"{"error":"invalid_client","error_description":"Client authentication failed."}"#)
        let result = try await setup.sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == (before["access_token"]?.stringValue ?? "?") + "\n")
        #expect(result.stderr.contains("invalid_client"))
        #expect(try await setup.sandbox.run(["get", "notion", "--field", "status"]).stdout == "connected\n")
    }
}
