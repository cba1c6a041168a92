@testable import NotionFakes
import AsyncHTTPClient
import NotionAuthCore
import Foundation
import NIOCore
import NIOHTTP1
import Testing

private let clientID = "client-1"
private let clientSecret = "secret_abc"
private let redirectURI = "http://127.0.0.1:7998/auth/callback/oauth"
private let notionVersion = "2025-09-03"

private func basic(_ id: String, _ secret: String) -> (String, String) {
    ("Authorization", "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString())
}

private func json(_ object: [String: String]) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: object, options: .sortedKeys), as: UTF8.self)
}

private func queryItems(_ url: String) -> [String: String] {
    var items: [String: String] = [:]
    for item in URLComponents(string: url)?.queryItems ?? [] {
        items[item.name] = item.value
    }
    return items
}

private func form(_ fields: [(String, String)]) -> String {
    let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    return fields.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
}

private func withNotion(_ body: (FakeNotionServer) async throws -> Void) async throws {
    let server = try await FakeNotionServer.start()
    defer { server.stopNow() }
    server.registerClient(id: clientID, secret: clientSecret, redirectURIs: [redirectURI])
    try await body(server)
}

private func withMCP(_ body: (FakeMCPServer) async throws -> Void) async throws {
    let server = try await FakeMCPServer.start()
    defer { server.stopNow() }
    try await body(server)
}

private func notionAuthorizeURL(_ server: FakeNotionServer, state: String = "st", extra: String = "") -> String {
    "\(server.baseURL)/v1/oauth/authorize?client_id=\(clientID)&redirect_uri=\(redirectURI.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&response_type=code&owner=user&state=\(state)\(extra)"
}

private func notionCode(_ server: FakeNotionServer) async throws -> String {
    let (status, location) = try await server.authorizeLikeABrowser(url: notionAuthorizeURL(server))
    #expect(status == 302)
    let callback = try #require(location)
    return try #require(queryItems(callback)["code"])
}

private func notionToken(_ server: FakeNotionServer, _ body: [String: String], credentials: (String, String)? = nil)
    async throws -> Reply
{
    try await send(
        .POST, server.baseURL + "/v1/oauth/token",
        headers: [
            credentials ?? basic(clientID, clientSecret), ("Content-Type", "application/json"),
            ("Notion-Version", notionVersion),
        ],
        body: json(body))
}

private func exchange(_ server: FakeNotionServer, code: String) async throws -> Reply {
    try await notionToken(server, ["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI])
}

private func usersMe(_ server: FakeNotionServer, token: String, version: String? = notionVersion) async throws -> Reply {
    var headers = [("Authorization", "Bearer \(token)")]
    if let version {
        headers.append(("Notion-Version", version))
    }
    return try await send(.GET, server.baseURL + "/v1/users/me", headers: headers)
}

@Suite struct FakeNotionServerTests {
    @Test func authorizeRedirectsWithCodeAndPercentEncodedState() async throws {
        try await withNotion { server in
            let (status, location) = try await server.authorizeLikeABrowser(
                url: notionAuthorizeURL(server, state: "a%26b%3Dc%20d%2B"))
            #expect(status == 302)
            let url = try #require(location)
            #expect(url.hasPrefix(redirectURI + "?code="))
            #expect(url.hasSuffix("&state=a%26b%3Dc%20d%2B"))
            #expect(queryItems(url)["state"] == "a&b=c d+")
        }
    }

    @Test func authorizeRejectsUnregisteredClientAndRedirectURI() async throws {
        try await withNotion { server in
            let unknownClient = try await send(
                .GET, server.baseURL + "/v1/oauth/authorize?client_id=nope&response_type=code&owner=user")
            #expect(unknownClient.status == 400)
            #expect(unknownClient.json["object"] as? String == "error")
            let wrongRedirect = try await send(
                .GET,
                server.baseURL
                    + "/v1/oauth/authorize?client_id=\(clientID)&redirect_uri=http%3A%2F%2F127.0.0.1%3A7999%2Fauth%2Fcallback%2Foauth&response_type=code&owner=user"
            )
            #expect(wrongRedirect.status == 400)
            #expect(wrongRedirect.headers.first(name: "location") == nil)
        }
    }

    @Test func deniedConsentRedirectsWithAccessDenied() async throws {
        try await withNotion { server in
            server.setDenyConsent(true)
            let (status, location) = try await server.authorizeLikeABrowser(url: notionAuthorizeURL(server))
            #expect(status == 302)
            #expect(location == redirectURI + "?error=access_denied&state=st")
        }
    }

    @Test func authorizationCodeIsSingleUse() async throws {
        try await withNotion { server in
            let code = try await notionCode(server)
            let first = try await exchange(server, code: code)
            #expect(first.status == 200)
            let tokens = first.json
            #expect((tokens["access_token"] as? String)?.hasPrefix("ntn_") == true)
            #expect((tokens["refresh_token"] as? String)?.hasPrefix("nrt_") == true)
            #expect(tokens["token_type"] as? String == "bearer")
            #expect(tokens["workspace_name"] as? String == "Fake Workspace")
            #expect(tokens["workspace_icon"] as? String == "🦊")
            #expect(tokens["duplicated_template_id"] is NSNull)
            #expect(tokens["expires_in"] == nil)
            #expect(UUID(uuidString: tokens["bot_id"] as? String ?? "") != nil)
            let owner = try #require(tokens["owner"] as? [String: Any])
            #expect(owner["type"] as? String == "user")

            let second = try await exchange(server, code: code)
            #expect(second.status == 400)
            #expect(second.json["object"] as? String == "error")
            #expect(second.json["code"] as? String == "invalid_grant")
        }
    }

    @Test func codeIsBoundToRedirectURIAndPKCEChallenge() async throws {
        try await withNotion { server in
            let code = try await notionCode(server)
            let wrongRedirect = try await notionToken(
                server, ["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI + "x"])
            #expect(wrongRedirect.json["code"] as? String == "invalid_grant")

            let verifier = "verifier-verifier-verifier-verifier-verifier-1234"
            let challenge = Data(Sodium.sha256(Array(verifier.utf8))).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            let (_, location) = try await server.authorizeLikeABrowser(
                url: notionAuthorizeURL(server, extra: "&code_challenge=\(challenge)&code_challenge_method=S256"))
            let callback = try #require(location)
            let pkceCode = try #require(queryItems(callback)["code"])
            let withoutVerifier = try await exchange(server, code: pkceCode)
            #expect(withoutVerifier.json["code"] as? String == "invalid_grant")
            let withVerifier = try await notionToken(
                server,
                [
                    "grant_type": "authorization_code", "code": pkceCode, "redirect_uri": redirectURI,
                    "code_verifier": verifier,
                ])
            #expect(withVerifier.status == 200)
        }
    }

    @Test func tokenEndpointRejectsWrongBasicCredentials() async throws {
        try await withNotion { server in
            let code = try await notionCode(server)
            let body = ["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI]
            let wrongSecret = try await notionToken(server, body, credentials: basic(clientID, "wrong"))
            #expect(wrongSecret.status == 401)
            #expect(wrongSecret.json["error"] as? String == "invalid_client")
            #expect(wrongSecret.json["error_description"] is String)
            let noAuth = try await send(
                .POST, server.baseURL + "/v1/oauth/token",
                headers: [("Content-Type", "application/json"), ("Notion-Version", notionVersion)], body: json(body))
            #expect(noAuth.status == 401)
            // The failed attempts did not burn the code.
            #expect(try await exchange(server, code: code).status == 200)
        }
    }

    @Test func tokenEndpointRequiresJSONAndVersion() async throws {
        try await withNotion { server in
            let formBody = try await send(
                .POST, server.baseURL + "/v1/oauth/token",
                headers: [
                    basic(clientID, clientSecret), ("Content-Type", "application/x-www-form-urlencoded"),
                    ("Notion-Version", notionVersion),
                ],
                body: "grant_type=authorization_code&code=x")
            #expect(formBody.status == 400)
            #expect(formBody.json["code"] as? String == "invalid_request")
            let noVersion = try await send(
                .POST, server.baseURL + "/v1/oauth/token",
                headers: [basic(clientID, clientSecret), ("Content-Type", "application/json")],
                body: json(["grant_type": "authorization_code", "code": "x"]))
            #expect(noVersion.status == 400)
            #expect(noVersion.json["code"] as? String == "missing_version")
            let unknownGrant = try await notionToken(server, ["grant_type": "password"])
            #expect(unknownGrant.json["code"] as? String == "unsupported_grant_type")
        }
    }

    @Test func refreshRotatesThePairAndRetiresTheOldOne() async throws {
        try await withNotion { server in
            let first = try await exchange(server, code: try await notionCode(server)).json
            let oldAccess = try #require(first["access_token"] as? String)
            let oldRefresh = try #require(first["refresh_token"] as? String)

            let refreshed = try await notionToken(server, ["grant_type": "refresh_token", "refresh_token": oldRefresh])
            #expect(refreshed.status == 200)
            let newAccess = try #require(refreshed.json["access_token"] as? String)
            let newRefresh = try #require(refreshed.json["refresh_token"] as? String)
            #expect(newAccess != oldAccess)
            #expect(newRefresh != oldRefresh)
            #expect(refreshed.json["bot_id"] as? String == first["bot_id"] as? String)
            #expect(!server.isActive(token: oldAccess))
            #expect(!server.isActive(token: oldRefresh))
            #expect(server.isActive(token: newAccess))

            let reused = try await notionToken(server, ["grant_type": "refresh_token", "refresh_token": oldRefresh])
            #expect(reused.status == 400)
            #expect(reused.json["code"] as? String == "invalid_grant")
            #expect(try await usersMe(server, token: oldAccess).status == 401)
            #expect(try await usersMe(server, token: newAccess).status == 200)
            #expect(server.refreshRequestCount() == 2)
            #expect(server.requestCount(path: "/v1/oauth/token") == 3)
        }
    }

    @Test func concurrentRefreshesWithOneTokenLetOnlyOneWin() async throws {
        try await withNotion { server in
            let refresh = try #require(
                try await exchange(server, code: try await notionCode(server)).json["refresh_token"] as? String)
            server.setTokenEndpointDelay(milliseconds: 200)
            async let first = notionToken(server, ["grant_type": "refresh_token", "refresh_token": refresh])
            async let second = notionToken(server, ["grant_type": "refresh_token", "refresh_token": refresh])
            let statuses = try await [first.status, second.status].sorted()
            #expect(statuses == [200, 400])
            #expect(server.refreshRequestCount() == 2)
        }
    }

    @Test func usersMeAcceptsValidTokensAndRejectsOthers() async throws {
        try await withNotion { server in
            server.addInternalToken("ntn_internal", botID: "bot-1", workspaceName: "Acme")
            let integration = try await usersMe(server, token: "ntn_internal")
            #expect(integration.status == 200)
            #expect(integration.json["type"] as? String == "bot")
            #expect(integration.json["id"] as? String == "bot-1")
            let bot = try #require(integration.json["bot"] as? [String: Any])
            #expect(bot["workspace_name"] as? String == "Acme")
            #expect((bot["owner"] as? [String: Any])?["type"] as? String == "workspace")
            #expect(bot["workspace_limits"] is [String: Any])

            let access = try #require(
                try await exchange(server, code: try await notionCode(server)).json["access_token"] as? String)
            let oauth = try await usersMe(server, token: access)
            #expect(oauth.status == 200)
            #expect((oauth.json["bot"] as? [String: Any])?["workspace_name"] is NSNull)

            let invalid = try await usersMe(server, token: "ntn_bogus")
            #expect(invalid.status == 401)
            #expect(invalid.json["code"] as? String == "unauthorized")
            #expect(invalid.json["message"] as? String == "API token is invalid.")
            #expect(invalid.json["request_id"] is String)

            let noVersion = try await usersMe(server, token: "ntn_internal", version: nil)
            #expect(noVersion.status == 400)
            #expect(noVersion.json["code"] as? String == "missing_version")

            server.revokeServerSide(token: access)
            #expect(try await usersMe(server, token: access).status == 401)
            #expect(server.lastRequest(path: "/v1/users/me")?.headers["authorization"] == "Bearer \(access)")
        }
    }

    @Test func configuredLifetimeAddsExpiresInAndExpiresTokens() async throws {
        try await withNotion { server in
            server.setAccessTokenLifetime(seconds: 0)
            let tokens = try await exchange(server, code: try await notionCode(server)).json
            #expect(tokens["expires_in"] as? Int == 0)
            let access = try #require(tokens["access_token"] as? String)
            #expect(!server.isActive(token: access))
            #expect(try await usersMe(server, token: access).status == 401)
        }
    }

    @Test func revokeEndsTheWholeGrantAndIntrospectionThenSaysInactive() async throws {
        try await withNotion { server in
            let tokens = try await exchange(server, code: try await notionCode(server)).json
            let access = try #require(tokens["access_token"] as? String)
            let refresh = try #require(tokens["refresh_token"] as? String)
            let headers = [basic(clientID, clientSecret), ("Content-Type", "application/json"), ("Notion-Version", notionVersion)]

            let before = try await send(
                .POST, server.baseURL + "/v1/oauth/introspect", headers: headers, body: json(["token": access]))
            #expect(before.status == 200)
            #expect(before.json["active"] as? Bool == true)
            #expect(before.json["iat"] is Int)
            #expect(before.json["scope"] is String)

            let revoked = try await send(
                .POST, server.baseURL + "/v1/oauth/revoke", headers: headers, body: json(["token": access]))
            #expect(revoked.status == 200)
            #expect(revoked.json["request_id"] is String)
            #expect(!server.isActive(token: access))
            #expect(!server.isActive(token: refresh))

            let after = try await send(
                .POST, server.baseURL + "/v1/oauth/introspect", headers: headers, body: json(["token": access]))
            #expect(after.json["active"] as? Bool == false)
        }
    }

    @Test func searchMissingAndRestrictedPagesAnswerLikeNotion() async throws {
        try await withNotion { server in
            server.addInternalToken("ntn_internal", botID: "bot-1", workspaceName: nil)
            let headers = [("Authorization", "Bearer ntn_internal"), ("Notion-Version", notionVersion)]
            let search = try await send(
                .POST, server.baseURL + "/v1/search", headers: headers + [("Content-Type", "application/json")],
                body: "{}")
            #expect(search.status == 200)
            #expect(search.json["object"] as? String == "list")
            let missing = try await send(.GET, server.baseURL + "/v1/pages/missing", headers: headers)
            #expect(missing.status == 404)
            #expect(missing.json["code"] as? String == "object_not_found")
            let restricted = try await send(.GET, server.baseURL + "/v1/pages/restricted", headers: headers)
            #expect(restricted.status == 403)
            #expect(restricted.json["code"] as? String == "restricted_resource")
        }
    }

    @Test func failNextInjectsOneResponseBeforeAnyHandling() async throws {
        try await withNotion { server in
            server.failNext(
                path: "/v1/users/me", status: 429,
                body: #"{"object":"error","status":429,"code":"rate_limited","message":"Slow down."}"#,
                headers: [("Retry-After", "2")])
            server.addInternalToken("ntn_internal", botID: "bot-1", workspaceName: nil)
            let limited = try await usersMe(server, token: "ntn_internal")
            #expect(limited.status == 429)
            #expect(limited.headers.first(name: "retry-after") == "2")
            #expect(limited.json["code"] as? String == "rate_limited")
            #expect(try await usersMe(server, token: "ntn_internal").status == 200)
            #expect(server.requestCount(path: "/v1/users/me") == 2)
        }
    }

    @Test func tokenEndpointDelayHoldsTheResponse() async throws {
        try await withNotion { server in
            let code = try await notionCode(server)
            server.setTokenEndpointDelay(milliseconds: 300)
            let clock = ContinuousClock()
            let start = clock.now
            #expect(try await exchange(server, code: code).status == 200)
            #expect(clock.now - start >= .milliseconds(300))
        }
    }
}

private func mcpRegister(_ server: FakeMCPServer, redirect: String = redirectURI) async throws -> String {
    let reply = try await send(
        .POST, server.baseURL + "/register", headers: [("Content-Type", "application/json")],
        body: #"{"client_name":"notionauth","redirect_uris":["\#(redirect)"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"}"#
    )
    #expect(reply.status == 201)
    #expect(reply.json["token_endpoint_auth_method"] as? String == "none")
    #expect(reply.json["client_name"] as? String == "notionauth")
    return try #require(reply.json["client_id"] as? String)
}

private let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
/// RFC 7636 appendix B's example pair.
private let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

private func mcpCode(_ server: FakeMCPServer, clientID: String) async throws -> String {
    let url =
        "\(server.baseURL)/authorize?"
        + form([
            ("client_id", clientID), ("redirect_uri", redirectURI), ("response_type", "code"),
            ("code_challenge", challenge), ("code_challenge_method", "S256"), ("state", "s1"),
            ("scope", "default"), ("resource", server.resourceURL),
        ])
    let (status, location) = try await server.authorizeLikeABrowser(url: url)
    #expect(status == 302)
    let callback = try #require(location)
    let items = queryItems(callback)
    #expect(items["state"] == "s1")
    return try #require(items["code"])
}

private func mcpToken(_ server: FakeMCPServer, _ fields: [(String, String)], headers: [(String, String)] = [])
    async throws -> Reply
{
    try await send(
        .POST, server.baseURL + "/token",
        headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers, body: form(fields))
}

@Suite struct FakeMCPServerTests {
    @Test func discoveryDocumentsPointAtTheServer() async throws {
        try await withMCP { server in
            for path in ["/.well-known/oauth-protected-resource", "/mcp/.well-known/oauth-protected-resource"] {
                let resource = try await send(.GET, server.baseURL + path)
                #expect(resource.status == 200)
                #expect(resource.json["resource"] as? String == server.baseURL + "/mcp")
                #expect(resource.json["authorization_servers"] as? [String] == [server.baseURL])
            }
            let metadata = try await send(.GET, server.baseURL + "/.well-known/oauth-authorization-server")
            #expect(metadata.status == 200)
            #expect(metadata.json["issuer"] as? String == server.baseURL)
            #expect(metadata.json["token_endpoint"] as? String == server.baseURL + "/token")
            #expect(metadata.json["registration_endpoint"] as? String == server.baseURL + "/register")
            #expect(metadata.json["code_challenge_methods_supported"] as? [String] == ["plain", "S256"])
        }
    }

    @Test func rfc8414CanBeTurnedOffLeavingOpenIDConfiguration() async throws {
        try await withMCP { server in
            let served = try await send(.GET, server.baseURL + "/.well-known/oauth-authorization-server")
            server.setServeRFC8414(false)
            let missing = try await send(.GET, server.baseURL + "/.well-known/oauth-authorization-server")
            #expect(missing.status == 404)
            let fallback = try await send(.GET, server.baseURL + "/.well-known/openid-configuration")
            #expect(fallback.status == 200)
            #expect(fallback.body == served.body)
        }
    }

    @Test func pkceS256VerifierIsChecked() async throws {
        try await withMCP { server in
            let client = try await mcpRegister(server)
            #expect(server.registrationCount() == 1)

            let code = try await mcpCode(server, clientID: client)
            let wrong = try await mcpToken(
                server,
                [
                    ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                    ("client_id", client), ("code_verifier", verifier + "x"),
                ])
            #expect(wrong.status == 400)
            #expect(wrong.json["error"] as? String == "invalid_grant")

            let right = try await mcpToken(
                server,
                [
                    ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                    ("client_id", client), ("code_verifier", verifier),
                ])
            #expect(right.status == 200)
            #expect(right.json["token_type"] as? String == "bearer")
            #expect(right.json["expires_in"] as? Int == 3600)
            #expect(right.json["scope"] as? String == "default")
            let access = try #require(right.json["access_token"] as? String)
            #expect(server.isActive(token: access))
        }
    }

    @Test func authorizeRequiresS256ChallengeAndResource() async throws {
        try await withMCP { server in
            let client = try await mcpRegister(server)
            var fields = [
                ("client_id", client), ("redirect_uri", redirectURI), ("response_type", "code"), ("state", "s1"),
                ("resource", server.resourceURL),
            ]
            let noChallenge = try await server.authorizeLikeABrowser(url: "\(server.baseURL)/authorize?" + form(fields))
            #expect(noChallenge.status == 400)
            fields += [("code_challenge", challenge), ("code_challenge_method", "S256")]
            let wrongResource = try await server.authorizeLikeABrowser(
                url: "\(server.baseURL)/authorize?" + form(fields.filter { $0.0 != "resource" } + [("resource", server.baseURL)]))
            #expect(wrongResource.status == 400)
            #expect(try await server.authorizeLikeABrowser(url: "\(server.baseURL)/authorize?" + form(fields)).status == 302)
        }
    }

    @Test func tokenEndpointRejectsMultipleAuthenticationMethods() async throws {
        try await withMCP { server in
            let client = try await mcpRegister(server)
            let code = try await mcpCode(server, clientID: client)
            let fields = [
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                ("client_id", client), ("code_verifier", verifier),
            ]
            let both = try await mcpToken(server, fields, headers: [basic(client, "")])
            #expect(both.status == 400)
            #expect(both.json["error"] as? String == "invalid_request")
            #expect(both.json["error_description"] as? String == "Client must not use multiple authentication methods")

            let json = try await send(
                .POST, server.baseURL + "/token", headers: [("Content-Type", "application/json")],
                body: #"{"grant_type":"authorization_code"}"#)
            #expect(json.status == 400)
            #expect(try await mcpToken(server, fields).status == 200)
        }
    }

    @Test func refreshRotatesAndSupersededTokenFails() async throws {
        try await withMCP { server in
            server.setAccessTokenLifetime(seconds: 60)
            let client = try await mcpRegister(server)
            let code = try await mcpCode(server, clientID: client)
            let first = try await mcpToken(
                server,
                [
                    ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                    ("client_id", client), ("code_verifier", verifier),
                ]
            ).json
            #expect(first["expires_in"] as? Int == 60)
            let oldRefresh = try #require(first["refresh_token"] as? String)
            let oldAccess = try #require(first["access_token"] as? String)
            let refreshFields = [("grant_type", "refresh_token"), ("refresh_token", oldRefresh), ("client_id", client)]
            let second = try await mcpToken(server, refreshFields)
            #expect(second.status == 200)
            #expect(second.json["refresh_token"] as? String != oldRefresh)
            #expect(!server.isActive(token: oldAccess))
            let reused = try await mcpToken(server, refreshFields)
            #expect(reused.status == 400)
            #expect(reused.json["error"] as? String == "invalid_grant")
            #expect(server.refreshRequestCount() == 2)

            let newAccess = try #require(second.json["access_token"] as? String)
            let revoke = try await send(
                .POST, server.baseURL + "/revoke", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: form([("token", newAccess)]))
            #expect(revoke.status == 200)
            #expect(!server.isActive(token: newAccess))
        }
    }
}
