@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// When a token is refreshed before it is handed out, and what a failed refresh leaves
/// usable, against the fake Notion server.
@Suite struct TokenRefreshTests {
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
}
