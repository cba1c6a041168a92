@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// `api`: an authenticated request to the provider's API, retried after a refresh or a rate limit.
@Suite struct APITests {
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
        setup.server.revokeServerSide(token: "ntn_internal_for_api_0001")
        let result = try await setup.sandbox.run(["api", "/v1/users/me"])
        #expect(result.status == 4)
        #expect(try await setup.sandbox.run(["get", "notion", "--field", "status"]).stdout == "invalid\n")
    }

    @Test(arguments: ["POST /v1/pages HTTP/1.1\r\nHost: evil.example\r\n\r\nPOST", "GET\u{1}", "PO ST", "GET\n"])
    func apiRefusesAMethodThatCouldSplitTheRequest(method: String) async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_hostile_test_token_0001")
        defer { setup.server.stopNow() }
        let result = try await setup.sandbox.run(["api", "/v1/users/me", "-X", method])
        #expect(result.status == 2)
        #expect(result.stderr.contains("-X takes an HTTP method"))
        #expect(setup.server.requests(path: "/v1/users/me").count == 1, "only the login's own check reached the setup.server")
        #expect(setup.server.requests(path: "/v1/pages").isEmpty)
    }

    @Test func apiRefusesAPathWithControlCharacters() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_hostile_test_token_0001")
        defer { setup.server.stopNow() }
        let result = try await setup.sandbox.run(["api", "/v1/users/me HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET /v1/search"])
        #expect(result.status == 2)
        #expect(setup.server.requests(path: "/v1/search").isEmpty)
        let methods = try await setup.sandbox.run(["api", "/v1/users/me", "-X", "PATCH"])
        #expect(setup.server.lastRequest(path: "/v1/users/me")?.method == "PATCH", "ordinary methods still go through: \(methods.stderr)")
    }
}
