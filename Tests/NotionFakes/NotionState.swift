import Foundation

struct NotionState {
    struct Client {
        var secret: String
        var redirectURIs: [String]
        var botID: String
    }

    struct Code {
        var clientID: String
        /// Nil when the authorize request left redirect_uri out.
        var redirectURI: String?
        var challenge: String?
        var challengeMethod: String
        var used = false
    }

    struct Token: FakeToken {
        enum Kind { case access, refresh, integration }
        var kind: Kind
        var clientID: String?
        /// Tokens descending from one authorization share a grant, which the revoke endpoint ends.
        var grantID: String?
        var botID: String
        var workspaceID: String
        var workspaceName: String?
        var issuedAt: Date
        var expiresAt: Date?
        var revoked = false
        /// For a refresh token: the access token issued with it, which rotation retires too.
        var partner: String?
    }

    var clients: [String: Client] = [:]
    var codes: [String: Code] = [:]
    var tokens: [String: Token] = [:]
    var denyConsent = false
    var accessTokenLifetime: Int?
    var tokenEndpointDelayMilliseconds = 0
    /// Pages, databases, comments and users; `NotionSeed` names what every server starts with.
    var content = NotionContent.seeded()
    /// How many more content API requests answer 429, and the Retry-After they carry.
    var rateLimitedRequests = 0
    var retryAfterSeconds = 0
    let workspaceID = FakeIDs.uuid()
    let ownerUserID = FakeIDs.uuid()
}
