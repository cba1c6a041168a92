import Foundation
import NIOConcurrencyHelpers
import NIOCore

final class MCPEndpoints: FakeEndpoints {
    static let tokenPath = "/token"
    static let introspectionPath = "/introspect"
    let state = NIOLockedValueBox(MCPState())

    func delay(for request: RecordedRequest) -> TimeAmount { .zero }

    func respond(to request: RecordedRequest, baseURL: String) -> FakeResponse {
        state.withLockedValue { state in
            switch request.path {
            case "/.well-known/oauth-protected-resource", "/mcp/.well-known/oauth-protected-resource",
                "/.well-known/oauth-protected-resource/mcp":
                guard request.method == "GET" else { return .oauthMethodNotAllowed("GET") }
                return .json(
                    200,
                    [
                        "resource": baseURL + "/mcp",
                        "authorization_servers": [baseURL],
                        "bearer_methods_supported": ["header"],
                        "resource_name": "Fake Notion MCP",
                    ])
            case "/.well-known/oauth-authorization-server":
                guard request.method == "GET" else { return .oauthMethodNotAllowed("GET") }
                guard state.serveRFC8414 else { return .oauthError(404, "not_found") }
                return .json(200, metadata(baseURL))
            case "/.well-known/openid-configuration":
                guard request.method == "GET" else { return .oauthMethodNotAllowed("GET") }
                return .json(200, metadata(baseURL))
            case "/register":
                guard request.method == "POST" else { return .oauthMethodNotAllowed("POST") }
                return register(request, &state)
            case "/authorize":
                guard request.method == "GET" else { return .oauthMethodNotAllowed("GET") }
                return authorize(request, baseURL: baseURL, &state)
            case Self.tokenPath:
                guard request.method == "POST" else { return .oauthMethodNotAllowed("POST") }
                return token(request, baseURL: baseURL, &state)
            case "/revoke":
                guard request.method == "POST" else { return .oauthMethodNotAllowed("POST") }
                return revoke(request, &state)
            case Self.introspectionPath:
                guard request.method == "POST" else { return .oauthMethodNotAllowed("POST") }
                return introspect(request, baseURL: baseURL, state)
            case "/mcp", "/sse":
                return mcp(request, baseURL: baseURL, state)
            default:
                return .oauthError(404, "not_found")
            }
        }
    }

    private func metadata(_ baseURL: String) -> [String: Any] {
        [
            "issuer": baseURL,
            "authorization_endpoint": baseURL + "/authorize",
            "token_endpoint": baseURL + Self.tokenPath,
            "registration_endpoint": baseURL + "/register",
            "revocation_endpoint": baseURL + "/revoke",
            "introspection_endpoint": baseURL + Self.introspectionPath,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "scopes_supported": ["default"],
        ]
    }

    private func register(_ request: RecordedRequest, _ state: inout MCPState) -> FakeResponse {
        guard request.mediaType == "application/json", let body = request.jsonBody else {
            return .oauthError(400, "invalid_client_metadata", "Body must be a JSON object.")
        }
        guard let redirectURIs = body["redirect_uris"] as? [String], !redirectURIs.isEmpty else {
            return .oauthError(400, "invalid_redirect_uri", "redirect_uris must be a non-empty array of strings.")
        }
        let clientID = FakeIDs.token(prefix: "", length: 16)
        state.clients[clientID] = MCPState.Client(redirectURIs: redirectURIs)
        var response: [String: Any] = [
            "client_id": clientID,
            "client_id_issued_at": Int(Date().timeIntervalSince1970),
            "redirect_uris": redirectURIs,
            "grant_types": body["grant_types"] as? [String] ?? ["authorization_code", "refresh_token"],
            "response_types": body["response_types"] as? [String] ?? ["code"],
            "token_endpoint_auth_method": "none",
        ]
        response["client_name"] = body["client_name"] as? String
        return .json(201, response, headers: [("Cache-Control", "no-store")])
    }

    private func authorize(_ request: RecordedRequest, baseURL: String, _ state: inout MCPState) -> FakeResponse {
        let query = request.query
        guard let clientID = query["client_id"], let client = state.clients[clientID] else {
            return .oauthError(400, "invalid_client", "Unknown client_id.")
        }
        guard let redirectURI = query["redirect_uri"], client.redirectURIs.contains(redirectURI) else {
            return .oauthError(400, "invalid_request", "redirect_uri is not registered for this client.")
        }
        guard query["response_type"] == "code" else {
            return .oauthError(400, "unsupported_response_type", "response_type must be code.")
        }
        guard let challenge = query["code_challenge"], query["code_challenge_method"] == "S256" else {
            return .oauthError(400, "invalid_request", "PKCE with code_challenge_method S256 is required.")
        }
        guard let stateParameter = query["state"], !stateParameter.isEmpty else {
            return .oauthError(400, "invalid_request", "state is required.")
        }
        guard query["resource"] == baseURL + "/mcp" else {
            return .oauthError(400, "invalid_target", "resource must be \(baseURL)/mcp.")
        }
        let scope = query["scope"] ?? "default"
        guard scope.split(separator: " ").allSatisfy({ $0 == "default" }) else {
            return .oauthError(400, "invalid_scope", "Only the default scope exists.")
        }
        if state.denyConsent {
            return .redirect(to: FormCoding.appendingQuery(to: redirectURI, [("error", "access_denied"), ("state", stateParameter)]))
        }
        let code = FakeIDs.token(prefix: "", length: 32)
        state.codes[code] = MCPState.Code(clientID: clientID, redirectURI: redirectURI, challenge: challenge, scope: scope)
        return .redirect(to: FormCoding.appendingQuery(to: redirectURI, [("code", code), ("state", stateParameter)]))
    }

    private func token(_ request: RecordedRequest, baseURL: String, _ state: inout MCPState) -> FakeResponse {
        guard request.mediaType == "application/x-www-form-urlencoded" else {
            return .oauthError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded.")
        }
        let form = request.formBody
        let basic = request.basicCredentials
        if basic != nil, form["client_id"] != nil {
            return .oauthError(400, "invalid_request", "Client must not use multiple authentication methods")
        }
        // Registered clients are public ("none"), so a Basic header only names the client.
        guard let clientID = form["client_id"] ?? basic?.id, state.clients[clientID] != nil else {
            return .oauthError(401, "invalid_client", "Unknown client.")
        }
        if let resource = form["resource"], resource != baseURL + "/mcp" {
            return .oauthError(400, "invalid_target", "resource must be \(baseURL)/mcp.")
        }
        switch form["grant_type"] {
        case "authorization_code":
            guard let code = form["code"], let redirectURI = form["redirect_uri"], let verifier = form["code_verifier"]
            else {
                return .oauthError(400, "invalid_request", "code, redirect_uri and code_verifier are required.")
            }
            guard let pending = state.codes[code], !pending.used, pending.clientID == clientID,
                pending.redirectURI == redirectURI, PKCE.s256(verifier) == pending.challenge
            else {
                return .oauthError(400, "invalid_grant")
            }
            state.codes[code]?.used = true
            return issueTokens(clientID: clientID, grantID: FakeIDs.uuid(), scope: pending.scope, &state)
        case "refresh_token":
            guard let refreshToken = form["refresh_token"] else {
                return .oauthError(400, "invalid_request", "refresh_token is required.")
            }
            guard let record = state.tokens[refreshToken], record.kind == .refresh, record.clientID == clientID
            else {
                return .oauthError(400, "invalid_grant")
            }
            if let successor = record.successor {
                // The grace retry: the pair issued the first time was never received.
                state.tokens[refreshToken]?.successor = nil
                state.tokens[successor]?.revoked = true
                if let partner = state.tokens[successor]?.partner { state.tokens[partner]?.revoked = true }
            } else {
                guard record.isActive(at: Date()) else { return .oauthError(400, "invalid_grant") }
                state.tokens[refreshToken]?.revoked = true
            }
            if let partner = record.partner {
                state.tokens[partner]?.revoked = true
            }
            let response = issueTokens(clientID: clientID, grantID: record.grantID, scope: record.scope, &state)
            if state.previousRefreshTokenGrace && record.successor == nil,
               let issued = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
               let next = issued["refresh_token"] as? String {
                state.tokens[refreshToken]?.successor = next
            }
            return response
        case nil:
            return .oauthError(400, "invalid_request", "grant_type is required.")
        default:
            return .oauthError(400, "unsupported_grant_type")
        }
    }

    private func issueTokens(clientID: String, grantID: String, scope: String, _ state: inout MCPState) -> FakeResponse {
        let lifetime = state.accessTokenLifetime
        let access = FakeIDs.token(prefix: "mcp_at_")
        let refresh = FakeIDs.token(prefix: "mcp_rt_")
        state.tokens[access] = MCPState.Token(
            kind: .access, clientID: clientID, grantID: grantID, scope: scope,
            expiresAt: Date().addingTimeInterval(TimeInterval(lifetime)))
        state.tokens[refresh] = MCPState.Token(
            kind: .refresh, clientID: clientID, grantID: grantID, scope: scope, expiresAt: nil, partner: access)
        return .json(
            200,
            [
                "access_token": access,
                "token_type": "bearer",
                "expires_in": lifetime,
                "refresh_token": refresh,
                "scope": scope,
            ],
            headers: [("Cache-Control", "no-store")])
    }

    private func revoke(_ request: RecordedRequest, _ state: inout MCPState) -> FakeResponse {
        guard request.mediaType == "application/x-www-form-urlencoded" else {
            return .oauthError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded.")
        }
        guard let token = request.formBody["token"] else {
            return .oauthError(400, "invalid_request", "token is required.")
        }
        // RFC 7009: unknown tokens still get 200; a known one ends its whole grant.
        if let grantID = state.tokens[token]?.grantID {
            for (key, value) in state.tokens where value.grantID == grantID {
                state.tokens[key]?.revoked = true
            }
        }
        return FakeResponse(status: 200, headers: [], body: [])
    }

    /// RFC 7662 introspection, for a resource server (the tests' upstream MCP server) to check
    /// a bearer token it was sent. Access tokens only: that is what resource servers are given.
    private func introspect(_ request: RecordedRequest, baseURL: String, _ state: MCPState) -> FakeResponse {
        guard request.mediaType == "application/x-www-form-urlencoded" else {
            return .oauthError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded.")
        }
        guard let token = request.formBody["token"] else {
            return .oauthError(400, "invalid_request", "token is required.")
        }
        guard let record = state.tokens[token], record.kind == .access, record.isActive(at: Date()) else {
            return .json(200, ["active": false])
        }
        var answer: [String: Any] = [
            "active": true,
            "client_id": record.clientID,
            "scope": record.scope,
            "token_type": "Bearer",
            "aud": baseURL + "/mcp",
            "iss": baseURL,
        ]
        answer["exp"] = record.expiresAt.map { Int($0.timeIntervalSince1970) }
        return .json(200, answer)
    }

    /// The resource itself: enough for a client to check that its bearer works, and to discover
    /// the metadata from the 401 as MCP clients do.
    private func mcp(_ request: RecordedRequest, baseURL: String, _ state: MCPState) -> FakeResponse {
        guard let token = request.bearerToken, let record = state.tokens[token], record.kind == .access,
            record.isActive(at: Date())
        else {
            return .oauthError(
                401, "invalid_token", "Missing or invalid access token.",
                headers: [
                    (
                        "WWW-Authenticate",
                        "Bearer realm=\"OAuth\", resource_metadata=\"\(baseURL)/.well-known/oauth-protected-resource/mcp\", error=\"invalid_token\""
                    )
                ])
        }
        return .json(200, ["jsonrpc": "2.0", "id": NSNull(), "result": [String: Any]()])
    }
}
