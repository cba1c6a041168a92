import Foundation

/// A stand-in for Notion's hosted MCP server's OAuth side (mcp.notion.com): discovery, dynamic
/// client registration, PKCE-only authorization and form-encoded token requests. Its base URL
/// is also the issuer.
typealias FakeMCPServer = FakeServer<MCPEndpoints>

extension FakeServer where Endpoints == MCPEndpoints {
    /// The protected resource's URL, which authorize requests must name in `resource`.
    var resourceURL: String { http.baseURL + "/mcp" }

    /// When false, `/.well-known/oauth-authorization-server` answers 404 and clients must fall
    /// back to `/.well-known/openid-configuration`.
    func setServeRFC8414(_ serve: Bool) {
        endpoints.state.withLockedValue { $0.serveRFC8414 = serve }
    }

    /// While set, the authorize endpoint answers as if the user pressed "Cancel".
    func setDenyConsent(_ deny: Bool) {
        endpoints.state.withLockedValue { $0.denyConsent = deny }
    }

    /// Lifetime of access tokens issued from now on, sent as `expires_in`; 3600 by default.
    func setAccessTokenLifetime(seconds: Int) {
        endpoints.state.withLockedValue { $0.accessTokenLifetime = seconds }
    }

    /// Retires exactly this token; its partner token keeps working.
    func revokeServerSide(token: String) {
        endpoints.state.withLockedValue { $0.tokens[token]?.revoked = true }
    }

    /// While set, a refresh token that was just rotated away stays usable for one more
    /// refresh (Notion MCP's grace for a client whose answer was lost); the pair issued
    /// from it the first time is then retired.
    func setPreviousRefreshTokenGrace(_ grace: Bool) {
        endpoints.state.withLockedValue { $0.previousRefreshTokenGrace = grace }
    }

    func registrationCount() -> Int {
        endpoints.state.withLockedValue { $0.clients.count }
    }

    /// Whether the token would be accepted now.
    func isActive(token: String) -> Bool {
        endpoints.state.withLockedValue { $0.tokens[token]?.isActive(at: Date()) ?? false }
    }
}
