@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// The provider API client that `api` (and later the MCP server) sends requests through.
@Suite struct APIClientTests {
    final class Waits: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Int64] = []
        func add(_ value: Int64) { lock.lock(); values.append(value); lock.unlock() }
        var all: [Int64] { lock.lock(); defer { lock.unlock() }; return values }
    }

    @Test func rateLimitsAreWaitedOutAsRetryAfterSaysBoundedAndThreeTimesAtMost() async throws {
        let server = try await FakeNotionServer.start()
        let sandbox = try Sandbox()
        try sandbox.pointNotion(at: server.baseURL)
        server.addInternalToken("ntn_api_client_token_0001", botID: "bot-1", workspaceName: "Acme")
        #expect(try await sandbox.run(["login", "notion", "--with-token"], stdin: "ntn_api_client_token_0001").status == 0)
        for retryAfter in ["2", "3600", "soon", "1"] {
            server.failNext(path: "/v1/users/me", status: 429, body: #"{"object":"error","status":429,"code":"rate_limited","message":"slow down"}"#, headers: [("Retry-After", retryAfter)])
        }
        let context = await contextFor(sandbox)
        let broker = Broker(context: context, vaultPath: nil) { _ in }
        var client = APIClient(broker: broker, provider: try broker.provider("notion").definition, connection: "default")
        let waits = Waits()
        client.wait = { waits.add($0) }
        let response = try client.send(method: "GET", path: "/v1/users/me", body: nil)
        #expect(response.status == 429, "the fourth 429 is handed back")
        #expect(waits.all == [2, APIClient.maxRetryAfterSeconds, 1])
        #expect(server.requests(path: "/v1/users/me").count == 1 + 4)
        let after = try client.send(method: "GET", path: "/v1/users/me", body: nil)
        #expect(after.status == 200)
        #expect(server.lastRequest(path: "/v1/users/me")?.headers["authorization"] == "Bearer ntn_api_client_token_0001")
        try await server.stop()
    }
}
