import Foundation

/// A stand-in for api.notion.com's OAuth and REST endpoints, behaving as
/// shared/reference/notion-oauth.md describes. Listens on 127.0.0.1 on a port of its own.
///
/// There is one fake workspace ("Fake Workspace") and one fake owner user; each registered
/// client is one public integration whose `bot_id` stays the same across authorizations,
/// as Notion's does for the same workspace. The workspace's content starts as `NotionSeed`
/// describes and is served by `NotionContentEndpoints`.
typealias FakeNotionServer = FakeServer<NotionEndpoints>

extension FakeServer where Endpoints == NotionEndpoints {
    /// Registers a public integration; registering the same id again replaces its secret and redirect URIs.
    func registerClient(id: String, secret: String, redirectURIs: [String]) {
        endpoints.state.withLockedValue { state in
            let botID = state.clients[id]?.botID ?? FakeIDs.uuid()
            state.clients[id] = NotionState.Client(secret: secret, redirectURIs: redirectURIs, botID: botID)
        }
    }

    /// Makes `token` a valid bearer for the REST endpoints, like an internal integration token; it never expires.
    func addInternalToken(_ token: String, botID: String, workspaceName: String?) {
        endpoints.state.withLockedValue { state in
            state.tokens[token] = NotionState.Token(
                kind: .integration, clientID: nil, grantID: nil, botID: botID,
                workspaceID: FakeIDs.uuid(), workspaceName: workspaceName,
                issuedAt: Date(), expiresAt: nil)
        }
    }

    /// While set, the authorize endpoint answers as if the user pressed "Cancel".
    func setDenyConsent(_ deny: Bool) {
        endpoints.state.withLockedValue { $0.denyConsent = deny }
    }

    /// Access tokens issued from now on expire after this many seconds and token responses carry
    /// `expires_in`; `nil` (the default, as Notion documents it) means neither.
    func setAccessTokenLifetime(seconds: Int?) {
        endpoints.state.withLockedValue { $0.accessTokenLifetime = seconds }
    }

    /// Retires exactly this token, as if Notion had revoked it; its partner token keeps working,
    /// so a test can revoke only an access token and watch the client refresh.
    func revokeServerSide(token: String) {
        endpoints.state.withLockedValue { $0.tokens[token]?.revoked = true }
    }

    /// Ends this token's life now, as its expiry would at Notion, whatever the client believes
    /// about its expiry.
    func expireServerSide(token: String) {
        endpoints.state.withLockedValue { $0.tokens[token]?.expiresAt = Date().addingTimeInterval(-1) }
    }

    /// Holds every token endpoint request this long before handling it.
    func setTokenEndpointDelay(milliseconds: Int) {
        endpoints.state.withLockedValue { $0.tokenEndpointDelayMilliseconds = milliseconds }
    }

    /// The next `count` content API requests (search, pages, blocks, databases, data sources,
    /// comments, users) that pass authentication answer 429 `rate_limited` with this `Retry-After`.
    func rateLimitNext(count: Int, retryAfterSeconds: Int) {
        endpoints.state.withLockedValue { state in
            state.rateLimitedRequests = count
            state.retryAfterSeconds = retryAfterSeconds
        }
    }

    /// The `bot_id` every authorization of this client is answered with.
    func botID(clientID: String) -> String? {
        endpoints.state.withLockedValue { $0.clients[clientID]?.botID }
    }

    /// Whether the token (internal, access or refresh) would be accepted now.
    func isActive(token: String) -> Bool {
        endpoints.state.withLockedValue { $0.tokens[token]?.isActive(at: Date()) ?? false }
    }
}
