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
    /// Ages a stored connection so that it is due for refresh: 90 s old, 30 s left.
    static func makeDue(_ sandbox: Sandbox, provider: String) async throws {
        let vault = Session(context: await contextFor(sandbox), global: GlobalOptions()).vault
        let now = Int64(Date().timeIntervalSince1970)
        try vault.update { (contents: inout VaultContents) throws(NotionauthError) in
            guard var connection = try contents.connection(provider: provider, name: "default", path: vault.path) else { return }
            connection.obtainedAt = now - 90
            connection.refreshedAt = nil
            connection.expiresAt = now + 30
            contents.store(connection)
        }
    }

    static func stored(_ sandbox: Sandbox, provider: String) async throws -> JSONValue {
        let result = try await sandbox.run(["get", provider, "--json", "--show-secrets"])
        return try #require(JSONValue.parse(Array(result.stdout.utf8))["connection"])
    }

    /// Runs a shell command as part of a test's set-up; a failure fails the test.
    static func shell(_ command: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw NotionauthError.failure("`\(command)` exited \(process.terminationStatus)") }
    }

    /// A notion-mcp connection logged in against a fake MCP server through the browser flow.
    static func loggedInToMCP(lifetime: Int = 120) async throws -> (FakeMCPServer, Sandbox) {
        let (server, sandbox, port) = try await LoginMCPTests.setUp()
        server.setAccessTokenLifetime(seconds: lifetime)
        let running = try RunningLogin(sandbox, ["login", "notion-mcp", "--no-browser", "--port", String(port), "--timeout", "20"])
        let location = try #require(try await server.authorizeLikeABrowser(url: try await running.printedURL()).location)
        #expect(try await Browserless.request(location).status == 200)
        #expect(try await running.finish().status == 0)
        try await makeDue(sandbox, provider: "notion-mcp")
        return (server, sandbox)
    }

    @Test func aFullDiskStopsTheRefreshBeforeTheProviderIsAskedAndItRefreshesOnceThereIsSpace() async throws {
        // A real ENOSPC: the vault lives on a 1 MiB tmpfs that the test fills up.
        try #require(geteuid() == 0, "mounting a tmpfs needs root (CI and the development machine run as root)")
        let setup = try await LoginBrowserTests.setUp()
        let sandbox = setup.sandbox
        try FileManager.default.createDirectory(atPath: sandbox.config, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Self.shell("mount -t tmpfs -o size=1m,mode=0700 notionauth-test '\(sandbox.config)'")
        defer { try? Self.shell("umount '\(sandbox.config)'") }
        try LoginWithTokenTests.pointNotion(at: setup.server, in: sandbox)
        setup.server.setAccessTokenLifetime(seconds: 120)
        let running = try RunningLogin(sandbox, ["login", "notion", "--no-browser", "--port", String(setup.port), "--timeout", "20", "--client-id", "client-1", "--client-secret-stdin"], stdin: "s3cret-value")
        _ = try await Browserless.request(try #require(try await setup.server.authorizeLikeABrowser(url: try await running.printedURL()).location))
        #expect(try await running.finish().status == 0)
        try await Self.makeDue(sandbox, provider: "notion")
        let before = try await Self.stored(sandbox, provider: "notion")

        // dd stops with ENOSPC when the file system is full; that is the point.
        try? Self.shell("dd if=/dev/zero of='\(sandbox.config)/filler' bs=4096 2>/dev/null")
        let full = try await sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(full.status == 0, "a token that is still valid is handed out: \(full.stderr)")
        #expect(full.stdout == (before["access_token"]?.stringValue ?? "?") + "\n")
        #expect(full.stderr.contains("no disk space"))
        #expect(setup.server.refreshRequestCount() == 0, "the provider must not rotate a pair that could not be saved")
        #expect(try await Self.stored(sandbox, provider: "notion")["refresh_token"] == before["refresh_token"])

        try FileManager.default.removeItem(atPath: "\(sandbox.config)/filler")
        let fresh = try await sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(fresh.stdout != full.stdout)
        #expect(setup.server.refreshRequestCount() == 1)
        #expect(setup.server.isActive(token: fresh.stdout.trimmingCharacters(in: .newlines)))
        #expect(try await sandbox.run(["get", "notion", "--field", "status"]).stdout == "connected\n")
        try await setup.server.stop()
    }

    @Test func anExpiredTokenOnAFullDiskIsAClearErrorAndTheConnectionIsNotRevoked() async throws {
        try #require(geteuid() == 0, "mounting a tmpfs needs root")
        let setup = try await LifecycleTests.loggedIn(lifetime: 120)
        let sandbox = setup.sandbox
        // Move the logged-in config onto a small tmpfs, then fill it.
        let saved = sandbox.root + "/saved-config"
        try FileManager.default.moveItem(atPath: sandbox.config, toPath: saved)
        try FileManager.default.createDirectory(atPath: sandbox.config, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Self.shell("mount -t tmpfs -o size=1m,mode=0700 notionauth-test '\(sandbox.config)' && cp -a '\(saved)'/. '\(sandbox.config)'/")
        defer { try? Self.shell("umount '\(sandbox.config)'") }
        let vault = Session(context: await contextFor(sandbox), global: GlobalOptions()).vault
        try vault.update { (contents: inout VaultContents) throws(NotionauthError) in
            guard var connection = try contents.connection(provider: "notion", name: "default", path: vault.path) else { return }
            connection.expiresAt = Int64(Date().timeIntervalSince1970) - 10
            contents.store(connection)
        }
        try? Self.shell("dd if=/dev/zero of='\(sandbox.config)/filler' bs=4096 2>/dev/null")
        let full = try await sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(full.status == 1)
        #expect(full.stdout.isEmpty)
        #expect(full.stderr.contains("no space left"))
        #expect(setup.server.refreshRequestCount() == 0)
        try FileManager.default.removeItem(atPath: "\(sandbox.config)/filler")
        let fresh = try await sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(setup.server.refreshRequestCount() == 1)
        try await setup.server.stop()
    }

    @Test func aLostRefreshAnswerIsAskedForAgainWithThePreviousRefreshToken() async throws {
        let (server, sandbox) = try await Self.loggedInToMCP()
        server.setPreviousRefreshTokenGrace(true)
        let before = try await Self.stored(sandbox, provider: "notion-mcp")
        server.dropNextAnswer(path: "/token")
        let result = try await sandbox.run(["get", "notion-mcp", "--field", "access_token"])
        #expect(result.status == 0, "\(result.stderr)")
        let token = result.stdout.trimmingCharacters(in: .newlines)
        #expect(token != before["access_token"]?.stringValue)
        #expect(server.isActive(token: token))
        let refreshes = server.requests(path: "/token").filter { $0.formBody["grant_type"] == "refresh_token" }
        #expect(refreshes.count == 2)
        #expect(refreshes.allSatisfy { $0.formBody["refresh_token"] == before["refresh_token"]?.stringValue })
        // The pair kept is the one from the retry, and it refreshes normally later.
        try await Self.makeDue(sandbox, provider: "notion-mcp")
        let later = try await sandbox.run(["get", "notion-mcp", "--field", "access_token"])
        #expect(later.status == 0, "\(later.stderr)")
        #expect(server.isActive(token: later.stdout.trimmingCharacters(in: .newlines)))
        try await server.stop()
    }

    @Test func aLostAnswerThatTheServerWillNotRepeatEndsInRevokedOnlyAfterTheRetry() async throws {
        let (server, sandbox) = try await Self.loggedInToMCP()
        server.dropNextAnswer(path: "/token")
        let result = try await sandbox.run(["get", "notion-mcp", "--field", "access_token"])
        #expect(result.status == 4)
        #expect(result.stderr.contains("revoked"))
        #expect(server.refreshRequestCount() == 2)
        try await server.stop()
    }

    @Test func aDueTokenWhoseClientIsGoneIsHandedOutWithAWarning() async throws {
        let setup = try await LifecycleTests.loggedIn(lifetime: 120)
        let before = try await Self.stored(setup.sandbox, provider: "notion")
        let vault = Session(context: await contextFor(setup.sandbox), global: GlobalOptions()).vault
        try vault.update { (contents: inout VaultContents) throws(NotionauthError) in
            contents.removeClientCredentials(provider: "notion")
        }
        let result = try await setup.sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == (before["access_token"]?.stringValue ?? "?") + "\n")
        #expect(result.stderr.contains("still valid"))
        #expect(setup.server.refreshRequestCount() == 0)
        try await setup.server.stop()
    }

    @Test func aRefusedClientDuringRefreshStillHandsOutAValidToken() async throws {
        let setup = try await LifecycleTests.loggedIn(lifetime: 120)
        let before = try await Self.stored(setup.sandbox, provider: "notion")
        setup.server.failNext(path: "/v1/oauth/token", status: 401, body: #"{"error":"invalid_client","error_description":"Client authentication failed."}"#)
        let result = try await setup.sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == (before["access_token"]?.stringValue ?? "?") + "\n")
        #expect(result.stderr.contains("invalid_client"))
        #expect(try await setup.sandbox.run(["get", "notion", "--field", "status"]).stdout == "connected\n")
        try await setup.server.stop()
    }
}
