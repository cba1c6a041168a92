import Foundation

struct MCPState {
    struct Client {
        var redirectURIs: [String]
    }

    struct Code {
        var clientID: String
        var redirectURI: String
        var challenge: String
        var scope: String
        var used = false
    }

    struct Token: FakeToken {
        enum Kind { case access, refresh }
        var kind: Kind
        var clientID: String
        var grantID: String
        var scope: String
        var expiresAt: Date?
        var revoked = false
        var partner: String?
        /// A refresh token rotated away while the grace was on: usable once more.
        var successor: String?
    }

    var clients: [String: Client] = [:]
    var codes: [String: Code] = [:]
    var tokens: [String: Token] = [:]
    var serveRFC8414 = true
    var denyConsent = false
    var accessTokenLifetime = 3600
    var previousRefreshTokenGrace = false
}
