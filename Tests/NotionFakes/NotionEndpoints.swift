import Foundation
import NIOConcurrencyHelpers
import NIOCore

final class NotionEndpoints: FakeEndpoints {
    static let tokenPath = "/v1/oauth/token"
    let state = NIOLockedValueBox(NotionState())

    func delay(for request: RecordedRequest) -> TimeAmount {
        guard request.path == Self.tokenPath else { return .zero }
        return .milliseconds(Int64(state.withLockedValue { $0.tokenEndpointDelayMilliseconds }))
    }

    func respond(to request: RecordedRequest, baseURL: String) -> FakeResponse {
        state.withLockedValue { state in
            switch request.path {
            case "/v1/oauth/authorize":
                guard request.method == "GET" else { return .methodNotAllowed("GET") }
                return authorize(request, &state)
            case Self.tokenPath:
                guard request.method == "POST" else { return .methodNotAllowed("POST") }
                return whenAuthenticated(request, &state) { token(clientID: $0, body: $1, &$2) }
            case "/v1/oauth/revoke", "/v1/oauth/introspect":
                guard request.method == "POST" else { return .methodNotAllowed("POST") }
                return whenAuthenticated(request, &state) { revokeOrIntrospect(request, clientID: $0, body: $1, &$2) }
            case let path where path.hasPrefix("/v1/"):
                return api(request, &state)
            default:
                return .notionError(400, "invalid_request_url", "Invalid request URL.")
            }
        }
    }

    private func authorize(_ request: RecordedRequest, _ state: inout NotionState) -> FakeResponse {
        let query = request.query
        guard let clientID = query["client_id"], let client = state.clients[clientID] else {
            return .notionError(400, "invalid_request", "Invalid client_id.")
        }
        // Redirecting to an unverified URI would make this an open redirector, so these are 400s.
        let redirectURI: String
        if let given = query["redirect_uri"] {
            guard client.redirectURIs.contains(given) else {
                return .notionError(400, "invalid_request", "redirect_uri is not registered for this integration.")
            }
            redirectURI = given
        } else if client.redirectURIs.count == 1 {
            redirectURI = client.redirectURIs[0]
        } else {
            return .notionError(400, "invalid_request", "Missing redirect_uri.")
        }
        guard query["response_type"] == "code" else {
            return .notionError(400, "invalid_request", "response_type must be code.")
        }
        guard query["owner"] == "user" else {
            return .notionError(400, "invalid_request", "owner must be user.")
        }
        let method = query["code_challenge_method"] ?? "plain"
        if query["code_challenge"] != nil, !["plain", "S256"].contains(method) {
            return .notionError(400, "invalid_request", "Unsupported code_challenge_method.")
        }
        if state.denyConsent {
            return .redirect(to: FormCoding.appendingQuery(to: redirectURI, [("error", "access_denied"), ("state", query["state"])]))
        }
        let code = FakeIDs.uuid()
        state.codes[code] = NotionState.Code(
            clientID: clientID, redirectURI: query["redirect_uri"], challenge: query["code_challenge"],
            challengeMethod: method)
        return .redirect(to: FormCoding.appendingQuery(to: redirectURI, [("code", code), ("state", query["state"])]))
    }

    /// Hands a request that passes `authenticatedJSON` to `handle`; any other gets the answer its failed check gives.
    private func whenAuthenticated(
        _ request: RecordedRequest, _ state: inout NotionState,
        _ handle: (_ clientID: String, _ body: [String: Any], _ state: inout NotionState) -> FakeResponse
    ) -> FakeResponse {
        do {
            let (clientID, body) = try authenticatedJSON(request, state)
            return handle(clientID, body, &state)
        } catch {
            return error.response
        }
    }

    /// Checks shared by every endpoint that takes client credentials: Basic auth, a JSON body and Notion-Version.
    private func authenticatedJSON(_ request: RecordedRequest, _ state: NotionState) throws(FakeResponseError)
        -> (clientID: String, body: [String: Any])
    {
        // RFC 6749 §2.3.1 form-encodes both parts before base64; accept them either way.
        let credentials = request.basicCredentials
        let clientID = credentials.map { state.clients[$0.id] == nil ? ($0.id.removingPercentEncoding ?? $0.id) : $0.id }
        guard let credentials, let clientID, let client = state.clients[clientID],
            client.secret == credentials.secret || client.secret == credentials.secret.removingPercentEncoding
        else {
            throw FakeResponseError(
                .oauthError(
                    401, "invalid_client", "Client authentication failed.",
                    headers: [("WWW-Authenticate", "Basic realm=\"notion\"")]))
        }
        guard request.mediaType == "application/json" else {
            throw FakeResponseError(.notionError(400, "invalid_request", "Content-Type must be application/json."))
        }
        guard request.header("notion-version") != nil else {
            throw FakeResponseError(.missingVersion)
        }
        guard let body = request.jsonBody else {
            throw FakeResponseError(.notionError(400, "invalid_json", "Error parsing JSON body."))
        }
        return (clientID, body)
    }

    private func token(clientID: String, body: [String: Any], _ state: inout NotionState) -> FakeResponse {
        switch body["grant_type"] as? String {
        case "authorization_code":
            return exchangeCode(body, clientID: clientID, &state)
        case "refresh_token":
            return refresh(body, clientID: clientID, &state)
        case nil:
            return .notionError(400, "invalid_request", "body.grant_type should be defined.")
        case let other?:
            return .notionError(400, "unsupported_grant_type", "Unsupported grant_type \(other).")
        }
    }

    private func exchangeCode(_ body: [String: Any], clientID: String, _ state: inout NotionState) -> FakeResponse {
        guard let code = body["code"] as? String else {
            return .notionError(400, "invalid_request", "body.code should be defined.")
        }
        guard let pending = state.codes[code], !pending.used, pending.clientID == clientID else {
            return .notionError(400, "invalid_grant", "Invalid code.")
        }
        let redirectURI = body["redirect_uri"] as? String
        if let bound = pending.redirectURI {
            guard redirectURI == bound else {
                return .notionError(400, "invalid_grant", "redirect_uri does not match the authorization request.")
            }
        } else if let redirectURI, state.clients[clientID]?.redirectURIs.contains(redirectURI) != true {
            return .notionError(400, "invalid_grant", "redirect_uri is not registered for this integration.")
        }
        if let challenge = pending.challenge {
            guard let verifier = body["code_verifier"] as? String,
                (pending.challengeMethod == "S256" ? PKCE.s256(verifier) : verifier) == challenge
            else {
                return .notionError(400, "invalid_grant", "code_verifier does not match the code_challenge.")
            }
        }
        state.codes[code]?.used = true
        return issueTokens(clientID: clientID, grantID: FakeIDs.uuid(), &state)
    }

    private func refresh(_ body: [String: Any], clientID: String, _ state: inout NotionState) -> FakeResponse {
        guard let refreshToken = body["refresh_token"] as? String else {
            return .notionError(400, "invalid_request", "body.refresh_token should be defined.")
        }
        guard let record = state.tokens[refreshToken], record.kind == .refresh, record.clientID == clientID,
            record.isActive(at: Date())
        else {
            return .notionError(400, "invalid_grant", "Invalid refresh token.")
        }
        state.tokens[refreshToken]?.revoked = true
        if let partner = record.partner {
            state.tokens[partner]?.revoked = true
        }
        return issueTokens(clientID: clientID, grantID: record.grantID ?? FakeIDs.uuid(), &state)
    }

    private func issueTokens(clientID: String, grantID: String, _ state: inout NotionState) -> FakeResponse {
        let botID = state.clients[clientID]?.botID ?? FakeIDs.uuid()
        let now = Date()
        let access = FakeIDs.token(prefix: "ntn_")
        let refresh = FakeIDs.token(prefix: "nrt_")
        let record = NotionState.Token(
            kind: .access, clientID: clientID, grantID: grantID, botID: botID, workspaceID: state.workspaceID,
            workspaceName: nil, issuedAt: now,
            expiresAt: state.accessTokenLifetime.map { now.addingTimeInterval(TimeInterval($0)) })
        state.tokens[access] = record
        var refreshRecord = record
        refreshRecord.kind = .refresh
        refreshRecord.expiresAt = nil
        refreshRecord.partner = access
        state.tokens[refresh] = refreshRecord

        var response: [String: Any] = [
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "bot_id": botID,
            "workspace_id": state.workspaceID,
            "workspace_name": "Fake Workspace",
            "workspace_icon": "🦊",
            "owner": ["type": "user", "user": ["object": "user", "id": state.ownerUserID]] as [String: Any],
            "duplicated_template_id": NSNull(),
            "request_id": FakeIDs.uuid(),
        ]
        response["expires_in"] = state.accessTokenLifetime
        return .json(200, response, headers: [("Cache-Control", "no-store")])
    }

    private func revokeOrIntrospect(_ request: RecordedRequest, clientID: String, body: [String: Any], _ state: inout NotionState)
        -> FakeResponse
    {
        guard let token = body["token"] as? String else {
            return .notionError(400, "invalid_request", "body.token should be defined.")
        }
        // Another client's token is treated as unknown, never disclosed.
        let record = state.tokens[token].flatMap { $0.clientID == clientID ? $0 : nil }
        if request.path == "/v1/oauth/revoke" {
            // Notion's revoke disconnects the authorization, so the whole token family ends.
            if let grantID = record?.grantID {
                for (key, value) in state.tokens where value.grantID == grantID {
                    state.tokens[key]?.revoked = true
                }
            }
            return .json(200, ["request_id": FakeIDs.uuid()])
        }
        guard let record else {
            return .json(200, ["active": false, "request_id": FakeIDs.uuid()])
        }
        return .json(
            200,
            [
                "active": record.isActive(at: Date()),
                "scope": "read_content update_content",
                "iat": Int(record.issuedAt.timeIntervalSince1970),
                "request_id": FakeIDs.uuid(),
            ])
    }

    private func api(_ request: RecordedRequest, _ state: inout NotionState) -> FakeResponse {
        guard let token = request.bearerToken, let record = state.tokens[token], record.kind != .refresh,
            record.isActive(at: Date())
        else {
            return .notionError(401, "unauthorized", "API token is invalid.")
        }
        guard request.header("notion-version") != nil else {
            return .missingVersion
        }
        // Notion limits each integration, so only requests it has identified count.
        if NotionContentEndpoints.owns(request.path), state.rateLimitedRequests > 0 {
            state.rateLimitedRequests -= 1
            return .notionError(429, "rate_limited", "You have been rate limited. Please try again in a few minutes.")
                .adding(("Retry-After", String(state.retryAfterSeconds)))
        }
        switch request.path {
        case "/v1/users/me":
            guard request.method == "GET" else { return .methodNotAllowed("GET") }
            return usersMe(record, state)
        case "/v1/pages/missing":
            return NotionAPIError.objectNotFound(.page, "missing").response
        case "/v1/pages/restricted":
            return NotionAPIError.restrictedResource.response
        case let path where NotionContentEndpoints.owns(path):
            return NotionContentEndpoints.respond(to: request, as: record.botID, &state.content)
        default:
            return .json(
                200,
                ["object": "echo", "method": request.method, "path": request.uri, "body": request.bodyText, "request_id": FakeIDs.uuid()])
        }
    }

    private func usersMe(_ record: NotionState.Token, _ state: NotionState) -> FakeResponse {
        let owner: [String: Any] =
            record.kind == .integration
            ? ["type": "workspace", "workspace": true]
            : ["type": "user", "user": ["object": "user", "id": state.ownerUserID]]
        return .json(
            200,
            [
                "object": "user",
                "id": record.botID,
                "name": "Fake Integration",
                "avatar_url": NSNull(),
                "type": "bot",
                "bot": [
                    "owner": owner,
                    "workspace_id": record.workspaceID,
                    // Notion leaves this null for OAuth tokens; clients take it from the token response.
                    "workspace_name": record.workspaceName.map { $0 as Any } ?? NSNull(),
                    "workspace_limits": ["max_file_upload_size_in_bytes": 5_368_709_120],
                ] as [String: Any],
                "request_id": FakeIDs.uuid(),
            ])
    }
}
