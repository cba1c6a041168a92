@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// `login notion-mcp`: discovery, dynamic registration and PKCE against a fake MCP server.
@Suite struct LoginMCPTests {
    static func setUp() async throws -> (FakeMCPServer, Sandbox, Int) {
        let server = try await FakeMCPServer.start()
        let sandbox = try Sandbox()
        let json = try String(contentsOfFile: Binary.repositoryRoot + "/providers/notion-mcp.json", encoding: .utf8)
            .replacingOccurrences(of: "https://mcp.notion.com", with: server.baseURL)
        try sandbox.writeProvider("notion-mcp", json)
        return (server, sandbox, try Browserless.freePort())
    }

    func login(_ sandbox: Sandbox, port: Int, extra: [String] = []) throws -> RunningLogin {
        try RunningLogin(sandbox, ["login", "notion-mcp", "--no-browser", "--port", String(port), "--timeout", "20"] + extra)
    }

    @Test func registersOnceAuthorizesWithPKCEAndStoresAnAbsoluteExpiry() async throws {
        let (server, sandbox, port) = try await Self.setUp()
        let before = Int64(Date().timeIntervalSince1970)
        let running = try login(sandbox, port: port)
        let url = try await running.printedURL()
        #expect(url.hasPrefix(server.baseURL + "/authorize?"))
        let query = Dictionary(uniqueKeysWithValues: URLComponents(string: url)!.queryItems!.map { ($0.name, $0.value ?? "") })
        #expect(query["code_challenge_method"] == "S256")
        #expect(query["code_challenge"]?.count == 43)
        #expect(query["resource"] == server.resourceURL)
        #expect(query["scope"] == "default")
        #expect(query["redirect_uri"] == "http://127.0.0.1:\(port)/auth/callback/oauth")
        #expect(server.registrationCount() == 1)

        let consent = try await server.authorizeLikeABrowser(url: url)
        #expect(try await Browserless.request(try #require(consent.location)).status == 200)
        let result = try await running.finish()
        #expect(result.status == 0, "\(result.stderr)")

        let token = try #require(server.lastRequest(path: "/token"))
        #expect(token.headers["content-type"]?.hasPrefix("application/x-www-form-urlencoded") == true)
        #expect(token.headers["authorization"] == nil, "a public client sends no Basic header")
        let form = String(decoding: token.body, as: UTF8.self)
        #expect(form.contains("code_verifier="))
        #expect(form.contains("grant_type=authorization_code"))

        let json = try JSONValue.parse(Array(try await sandbox.run(["get", "notion-mcp", "--json"]).stdout.utf8))
        let expiresAt = try #require(json["connection"]?["expires_at"]?.stringValue)
        #expect(expiresAt.hasSuffix("Z"))
        let status = try await sandbox.run(["get", "notion-mcp", "--field", "status"])
        #expect(status.stdout == "connected\n")
        let exported = try await sandbox.run(["export", "notion-mcp"])
        #expect(exported.stdout.hasPrefix("export NOTION_MCP_ACCESS_TOKEN='"))
        _ = before

        // A second login reuses the stored registration.
        let again = try login(sandbox, port: port, extra: ["--force"])
        _ = try await Browserless.request(try #require(try await server.authorizeLikeABrowser(url: try await again.printedURL()).location))
        #expect(try await again.finish().status == 0)
        #expect(server.registrationCount() == 1)
        try await server.stop()
    }

    @Test func fallsBackToOpenIDDiscoveryWhenRFC8414IsMissing() async throws {
        let (server, sandbox, port) = try await Self.setUp()
        server.setServeRFC8414(false)
        let running = try login(sandbox, port: port)
        _ = try await Browserless.request(try #require(try await server.authorizeLikeABrowser(url: try await running.printedURL()).location))
        #expect(try await running.finish().status == 0)
        #expect(server.requestCount(path: "/.well-known/openid-configuration") == 1)
        try await server.stop()
    }

    @Test func aNewPortRegistersANewClientAndResetClientForgetsTheOld() async throws {
        let (server, sandbox, port) = try await Self.setUp()
        let first = try login(sandbox, port: port)
        _ = try await Browserless.request(try #require(try await server.authorizeLikeABrowser(url: try await first.printedURL()).location))
        #expect(try await first.finish().status == 0)
        let otherPort = try Browserless.freePort()
        let second = try login(sandbox, port: otherPort, extra: ["--force"])
        _ = try await Browserless.request(try #require(try await server.authorizeLikeABrowser(url: try await second.printedURL()).location))
        #expect(try await second.finish().status == 0)
        #expect(server.registrationCount() == 2)
        let third = try login(sandbox, port: otherPort, extra: ["--force", "--reset-client"])
        _ = try await Browserless.request(try #require(try await server.authorizeLikeABrowser(url: try await third.printedURL()).location))
        #expect(try await third.finish().status == 0)
        #expect(server.registrationCount() == 3)
        try await server.stop()
    }

    @Test func deniedConsentExits4() async throws {
        let (server, sandbox, port) = try await Self.setUp()
        server.setDenyConsent(true)
        let running = try login(sandbox, port: port)
        _ = try await Browserless.request(try #require(try await server.authorizeLikeABrowser(url: try await running.printedURL()).location))
        #expect(try await running.finish().status == 4)
        try await server.stop()
    }

    @Test func discoveredEndpointsMustBeHTTPSOrLoopback() async throws {
        let (server, sandbox, port) = try await Self.setUp()
        server.failNext(path: "/.well-known/oauth-protected-resource", status: 200,
                        body: #"{"resource":"x","authorization_servers":["http://evil.example"]}"#)
        let result = try await login(sandbox, port: port).finish()
        #expect(result.status == 1)
        #expect(result.stderr.contains("must use https"))
        try await server.stop()
    }
}
