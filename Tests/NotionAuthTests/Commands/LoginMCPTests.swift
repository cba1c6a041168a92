@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// `login notion-mcp`: discovery, dynamic registration and PKCE against a fake MCP server.
@Suite struct LoginMCPTests {
    @Test func registersOnceAuthorizesWithPKCEAndStoresAnAbsoluteExpiry() async throws {
        let setup = try await MCPLoginSetup.start()
        defer { setup.server.stopNow() }
        let before = Int64(Date().timeIntervalSince1970)
        let running = try setup.login()
        let url = try await running.printedURL()
        #expect(url.hasPrefix(setup.server.baseURL + "/authorize?"))
        let query = Dictionary(uniqueKeysWithValues: URLComponents(string: url)!.queryItems!.map { ($0.name, $0.value ?? "") })
        #expect(query["code_challenge_method"] == "S256")
        #expect(query["code_challenge"]?.count == 43)
        #expect(query["resource"] == setup.server.resourceURL)
        #expect(query["scope"] == "default")
        #expect(query["redirect_uri"] == "http://127.0.0.1:\(setup.port)/auth/callback/oauth")
        #expect(setup.server.registrationCount() == 1)

        #expect(try await running.approveInBrowser(at: setup.server, url: url).status == 200)
        let result = try await running.finish()
        let after = Int64(Date().timeIntervalSince1970)
        #expect(result.status == 0, "\(result.stderr)")

        let token = try #require(setup.server.lastRequest(path: "/token"))
        #expect(token.headers["content-type"]?.hasPrefix("application/x-www-form-urlencoded") == true)
        #expect(token.headers["authorization"] == nil, "a public client sends no Basic header")
        let form = String(decoding: token.body, as: UTF8.self)
        #expect(form.contains("code_verifier="))
        #expect(form.contains("grant_type=authorization_code"))

        let json = try JSONValue.parse(Array(try await setup.sandbox.run(["get", "notion-mcp", "--json"]).stdout.utf8))
        let expiresAt = try #require(json["connection"]?["expires_at"]?.stringValue)
        #expect(expiresAt.hasSuffix("Z"))
        // The fake's tokens live 3600 s: what is stored is the moment they end, not the lifetime.
        let expiry = Int64(try #require(ISO8601DateFormatter().date(from: expiresAt)).timeIntervalSince1970)
        #expect((before + 3600)...(after + 3600) ~= expiry, "expires_at \(expiresAt) is not now + expires_in")
        let status = try await setup.sandbox.run(["get", "notion-mcp", "--field", "status"])
        #expect(status.stdout == "connected\n")
        let exported = try await setup.sandbox.run(["export", "notion-mcp"])
        #expect(exported.stdout.hasPrefix("export NOTION_MCP_ACCESS_TOKEN='"))

        // A second login reuses the stored registration.
        #expect(try await setup.login(extra: ["--force"]).completeInBrowser(at: setup.server).status == 0)
        #expect(setup.server.registrationCount() == 1)
    }

    @Test func fallsBackToOpenIDDiscoveryWhenRFC8414IsMissing() async throws {
        let setup = try await MCPLoginSetup.start()
        defer { setup.server.stopNow() }
        setup.server.setServeRFC8414(false)
        #expect(try await setup.login().completeInBrowser(at: setup.server).status == 0)
        #expect(setup.server.requestCount(path: "/.well-known/openid-configuration") == 1)
    }

    @Test func aNewPortRegistersANewClientAndResetClientForgetsTheOld() async throws {
        let setup = try await MCPLoginSetup.start()
        defer { setup.server.stopNow() }
        #expect(try await setup.login().completeInBrowser(at: setup.server).status == 0)
        let otherPort = try Browserless.freePort()
        #expect(try await setup.login(port: otherPort, extra: ["--force"]).completeInBrowser(at: setup.server).status == 0)
        #expect(setup.server.registrationCount() == 2)
        #expect(try await setup.login(port: otherPort, extra: ["--force", "--reset-client"]).completeInBrowser(at: setup.server).status == 0)
        #expect(setup.server.registrationCount() == 3)
    }

    @Test func deniedConsentExits4() async throws {
        let setup = try await MCPLoginSetup.start()
        defer { setup.server.stopNow() }
        setup.server.setDenyConsent(true)
        #expect(try await setup.login().completeInBrowser(at: setup.server).status == 4)
    }

    @Test func discoveredEndpointsMustBeHTTPSOrLoopback() async throws {
        let setup = try await MCPLoginSetup.start()
        defer { setup.server.stopNow() }
        setup.server.failNext(path: "/.well-known/oauth-protected-resource", status: 200,
                        body: #"{"resource":"x","authorization_servers":["http://evil.example"]}"#)
        let result = try await setup.login().finish()
        #expect(result.status == 1)
        #expect(result.stderr.contains("must use https"))
    }
}
