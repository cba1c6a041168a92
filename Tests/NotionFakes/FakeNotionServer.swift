import AsyncHTTPClient
import NotionAuthCore
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A stand-in for api.notion.com's OAuth and REST endpoints, behaving as
/// shared/reference/notion-oauth.md describes. Listens on 127.0.0.1 on a port of its own.
///
/// There is one fake workspace ("Fake Workspace") and one fake owner user; each registered
/// client is one public integration whose `bot_id` stays the same across authorizations,
/// as Notion's does for the same workspace.
final class FakeNotionServer: Sendable {
    private let http: FakeHTTPServer
    private let endpoints: NotionEndpoints

    private init(http: FakeHTTPServer, endpoints: NotionEndpoints) {
        self.http = http
        self.endpoints = endpoints
    }

    static func start() async throws -> FakeNotionServer {
        let endpoints = NotionEndpoints()
        return FakeNotionServer(http: try await FakeHTTPServer.start(endpoints: endpoints), endpoints: endpoints)
    }

    func stop() async throws {
        try await http.stop()
    }

    var port: Int { http.port }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    var baseURL: String { http.baseURL }

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

    /// The next request to `path` gets this response before any other handling; calls queue up.
    func failNext(path: String, status: Int, body: String, headers: [(String, String)] = []) {
        http.failNext(path: path, response: FakeResponse.injected(status: status, body: body, headers: headers))
    }

    /// The next request to `path` is handled (a refresh rotates the pair) but its answer is
    /// never sent: the connection closes, as when a network drops a response.
    func dropNextAnswer(path: String) {
        http.dropNextAnswer(path: path)
    }

    /// Holds every token endpoint request this long before handling it.
    func setTokenEndpointDelay(milliseconds: Int) {
        endpoints.state.withLockedValue { $0.tokenEndpointDelayMilliseconds = milliseconds }
    }

    /// Requests whose path (without the query) is `path`; a `path` containing `?` is compared with the whole target.
    func requestCount(path: String) -> Int {
        http.requests(path: path).count
    }

    /// Token endpoint requests whose JSON body has `grant_type` `refresh_token`, including rejected ones.
    func refreshRequestCount() -> Int {
        http.requests(path: NotionEndpoints.tokenPath).filter {
            ($0.jsonBody?["grant_type"] as? String) == "refresh_token"
        }.count
    }

    func lastRequest(path: String) -> RecordedRequest? {
        http.requests(path: path).last
    }

    func requests(path: String) -> [RecordedRequest] {
        http.requests(path: path)
    }

    /// Whether the token (internal, access or refresh) would be accepted now.
    func isActive(token: String) -> Bool {
        endpoints.state.withLockedValue { $0.tokens[token]?.isActive(at: Date()) ?? false }
    }

    /// GETs `url` without following redirects, as a browser's first hop would, and returns the
    /// status and `Location`, so the test can deliver the redirect to the callback listener itself.
    func authorizeLikeABrowser(url: String) async throws -> (status: Int, location: String?) {
        try await fetchWithoutFollowingRedirects(url)
    }
}

/// A stand-in for Notion's hosted MCP server's OAuth side (mcp.notion.com): discovery, dynamic
/// client registration, PKCE-only authorization and form-encoded token requests.
final class FakeMCPServer: Sendable {
    private let http: FakeHTTPServer
    private let endpoints: MCPEndpoints

    private init(http: FakeHTTPServer, endpoints: MCPEndpoints) {
        self.http = http
        self.endpoints = endpoints
    }

    static func start() async throws -> FakeMCPServer {
        let endpoints = MCPEndpoints()
        return FakeMCPServer(http: try await FakeHTTPServer.start(endpoints: endpoints), endpoints: endpoints)
    }

    func stop() async throws {
        try await http.stop()
    }

    var port: Int { http.port }

    /// `http://127.0.0.1:PORT`, without a trailing slash; also the issuer.
    var baseURL: String { http.baseURL }

    /// The protected resource's URL, which authorize requests must name in `resource`.
    var resourceURL: String { http.baseURL + "/mcp" }

    /// When false, `/.well-known/oauth-authorization-server` answers 404 and clients must fall
    /// back to `/.well-known/openid-configuration`.
    func setServeRFC8414(_ serve: Bool) {
        endpoints.state.withLockedValue { $0.serveRFC8414 = serve }
    }

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

    func failNext(path: String, status: Int, body: String, headers: [(String, String)] = []) {
        http.failNext(path: path, response: FakeResponse.injected(status: status, body: body, headers: headers))
    }

    /// The next request to `path` is handled but its answer is never sent.
    func dropNextAnswer(path: String) {
        http.dropNextAnswer(path: path)
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

    func requestCount(path: String) -> Int {
        http.requests(path: path).count
    }

    /// Token endpoint requests whose form body has `grant_type=refresh_token`, including rejected ones.
    func refreshRequestCount() -> Int {
        http.requests(path: "/token").filter { $0.formBody["grant_type"] == "refresh_token" }.count
    }

    func lastRequest(path: String) -> RecordedRequest? {
        http.requests(path: path).last
    }

    func requests(path: String) -> [RecordedRequest] {
        http.requests(path: path)
    }

    func isActive(token: String) -> Bool {
        endpoints.state.withLockedValue { $0.tokens[token]?.isActive(at: Date()) ?? false }
    }

    func authorizeLikeABrowser(url: String) async throws -> (status: Int, location: String?) {
        try await fetchWithoutFollowingRedirects(url)
    }
}

/// One request as a fake server received it.
struct RecordedRequest: Sendable {
    let method: String
    /// Path and query exactly as sent.
    let uri: String
    /// Lowercased names; a repeated header's values joined with ", " (RFC 9110 §5.3).
    let headers: [String: String]
    let body: [UInt8]

    var path: String { String(uri.prefix { $0 != "?" }) }

    var query: [String: String] {
        guard let mark = uri.firstIndex(of: "?") else { return [:] }
        return formDecode(uri[uri.index(after: mark)...])
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    var formBody: [String: String] { formDecode(Substring(bodyText)) }

    /// The body as a JSON object, or nil when it is not one.
    var jsonBody: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    func header(_ name: String) -> String? {
        headers[name.lowercased()]
    }

    /// The media type of Content-Type, lowercased and without parameters.
    var mediaType: String? {
        header("content-type").map {
            $0.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces).lowercased()
        }
    }

    /// RFC 6749 §2.3.1: the id and secret are each form-encoded before they are joined, so
    /// the first ':' separates them and each part is form-decoded.
    var basicCredentials: (id: String, secret: String)? {
        guard let encoded = credentials(scheme: "basic"),
            let data = Data(base64Encoded: encoded),
            let decoded = String(data: data, encoding: .utf8),
            let colon = decoded.firstIndex(of: ":")
        else { return nil }
        return (formDecodeComponent(decoded[..<colon]), formDecodeComponent(decoded[decoded.index(after: colon)...]))
    }

    var bearerToken: String? { credentials(scheme: "bearer") }

    private func credentials(scheme: String) -> String? {
        guard let value = header("authorization") else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == scheme else { return nil }
        let credentials = parts[1].trimmingCharacters(in: .whitespaces)
        return credentials.isEmpty ? nil : credentials
    }
}

struct FakeResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    static func json(_ status: Int, _ object: [String: Any], headers: [(String, String)] = []) -> FakeResponse {
        // Sorted keys keep bodies byte-for-byte repeatable for tests that compare them.
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return FakeResponse(
            status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers,
            body: Array(data))
    }

    static func redirect(to location: String) -> FakeResponse {
        FakeResponse(status: 302, headers: [("Location", location), ("Cache-Control", "no-store")], body: [])
    }

    static func injected(status: Int, body: String, headers: [(String, String)]) -> FakeResponse {
        var headers = headers
        if !body.isEmpty, !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            let isJSON = (try? JSONSerialization.jsonObject(with: Data(body.utf8), options: .fragmentsAllowed)) != nil
            headers.append(("Content-Type", isJSON ? "application/json; charset=utf-8" : "text/plain; charset=utf-8"))
        }
        return FakeResponse(status: status, headers: headers, body: Array(body.utf8))
    }

    static func notionError(_ status: Int, _ code: String, _ message: String) -> FakeResponse {
        json(status, ["object": "error", "status": status, "code": code, "message": message, "request_id": FakeIDs.uuid()])
    }

    /// RFC 6749 §5.2 shape, which Notion's OAuth endpoints are observed to use too.
    static func oauthError(_ status: Int, _ error: String, _ description: String? = nil, headers: [(String, String)] = [])
        -> FakeResponse
    {
        var object: [String: Any] = ["error": error]
        object["error_description"] = description
        return json(status, object, headers: headers)
    }

    static var missingVersion: FakeResponse {
        notionError(
            400, "missing_version",
            "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.")
    }

    static func methodNotAllowed(_ allowed: String) -> FakeResponse {
        notionError(405, "invalid_request_url", "Method not allowed; use \(allowed).").adding(("Allow", allowed))
    }

    func adding(_ header: (String, String)) -> FakeResponse {
        var copy = self
        copy.headers.append(header)
        return copy
    }
}

private enum FakeIDs {
    static func uuid() -> String {
        UUID().uuidString.lowercased()
    }

    static func token(prefix: String, length: Int = 43) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return prefix + String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }
}

/// application/x-www-form-urlencoded decoding; the first of repeated names wins.
private func formDecode(_ text: Substring) -> [String: String] {
    var result: [String: String] = [:]
    for pair in text.split(separator: "&") {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = formDecodeComponent(parts[0])
        if result[name] == nil {
            result[name] = parts.count > 1 ? formDecodeComponent(parts[1]) : ""
        }
    }
    return result
}

private func formDecodeComponent(_ part: Substring) -> String {
    let spaced = part.replacingOccurrences(of: "+", with: " ")
    return spaced.removingPercentEncoding ?? spaced
}

/// Encodes everything but RFC 3986 unreserved characters, so a state holding `&`, `=`, `+` or
/// spaces survives the round trip through any decoder.
private func percentEncode(_ value: String) -> String {
    let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    return value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
}

private func appendingQuery(to uri: String, _ items: [(String, String?)]) -> String {
    let query = items.compactMap { name, value in value.map { "\(name)=\(percentEncode($0))" } }
    return uri + (uri.contains("?") ? "&" : "?") + query.joined(separator: "&")
}

private func pkceS256(_ verifier: String) -> String {
    Data(Sodium.sha256(Array(verifier.utf8))).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

private func fetchWithoutFollowingRedirects(_ url: String) async throws -> (status: Int, location: String?) {
    let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))
    do {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        try await client.shutdown()
        return (Int(response.status.code), response.headers.first(name: "location"))
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// What a fake answers; the HTTP plumbing is shared.
private protocol FakeEndpoints: Sendable {
    /// How long to hold the request before `respond`, to imitate a slow server.
    func delay(for request: RecordedRequest) -> TimeAmount
    func respond(to request: RecordedRequest, baseURL: String) -> FakeResponse
}

private struct NotionState {
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

    struct Token {
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

        func isActive(at now: Date) -> Bool {
            !revoked && (expiresAt.map { now < $0 } ?? true)
        }
    }

    var clients: [String: Client] = [:]
    var codes: [String: Code] = [:]
    var tokens: [String: Token] = [:]
    var denyConsent = false
    var accessTokenLifetime: Int?
    var tokenEndpointDelayMilliseconds = 0
    let workspaceID = FakeIDs.uuid()
    let ownerUserID = FakeIDs.uuid()
}

private final class NotionEndpoints: FakeEndpoints {
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
                return token(request, &state)
            case "/v1/oauth/revoke", "/v1/oauth/introspect":
                guard request.method == "POST" else { return .methodNotAllowed("POST") }
                return revokeOrIntrospect(request, &state)
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
            return .redirect(to: appendingQuery(to: redirectURI, [("error", "access_denied"), ("state", query["state"])]))
        }
        let code = FakeIDs.uuid()
        state.codes[code] = NotionState.Code(
            clientID: clientID, redirectURI: query["redirect_uri"], challenge: query["code_challenge"],
            challengeMethod: method)
        return .redirect(to: appendingQuery(to: redirectURI, [("code", code), ("state", query["state"])]))
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

    private func token(_ request: RecordedRequest, _ state: inout NotionState) -> FakeResponse {
        let clientID: String
        let body: [String: Any]
        do {
            (clientID, body) = try authenticatedJSON(request, state)
        } catch {
            return error.response
        }
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
                (pending.challengeMethod == "S256" ? pkceS256(verifier) : verifier) == challenge
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

    private func revokeOrIntrospect(_ request: RecordedRequest, _ state: inout NotionState) -> FakeResponse {
        let clientID: String
        let body: [String: Any]
        do {
            (clientID, body) = try authenticatedJSON(request, state)
        } catch {
            return error.response
        }
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
        switch request.path {
        case "/v1/users/me":
            guard request.method == "GET" else { return .methodNotAllowed("GET") }
            return usersMe(record, state)
        case "/v1/search":
            guard request.method == "POST" else { return .methodNotAllowed("POST") }
            return .json(200, ["object": "list", "results": [Any](), "next_cursor": NSNull(), "has_more": false, "request_id": FakeIDs.uuid()])
        case "/v1/pages/missing":
            return .notionError(
                404, "object_not_found",
                "Could not find page with ID: missing. Make sure the relevant pages and databases are shared with your integration.")
        case "/v1/pages/restricted":
            return .notionError(403, "restricted_resource", "Insufficient permissions for this endpoint.")
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

/// Lets the shared pre-checks return either a value or the response that ends the request.
private struct FakeResponseError: Error {
    let response: FakeResponse
    init(_ response: FakeResponse) { self.response = response }
}

private struct MCPState {
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

    struct Token {
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

        func isActive(at now: Date) -> Bool {
            !revoked && (expiresAt.map { now < $0 } ?? true)
        }
    }

    var clients: [String: Client] = [:]
    var codes: [String: Code] = [:]
    var tokens: [String: Token] = [:]
    var serveRFC8414 = true
    var denyConsent = false
    var accessTokenLifetime = 3600
    var previousRefreshTokenGrace = false
}

private final class MCPEndpoints: FakeEndpoints {
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
            case "/token":
                guard request.method == "POST" else { return .oauthMethodNotAllowed("POST") }
                return token(request, baseURL: baseURL, &state)
            case "/revoke":
                guard request.method == "POST" else { return .oauthMethodNotAllowed("POST") }
                return revoke(request, &state)
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
            "token_endpoint": baseURL + "/token",
            "registration_endpoint": baseURL + "/register",
            "revocation_endpoint": baseURL + "/revoke",
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
            return .redirect(to: appendingQuery(to: redirectURI, [("error", "access_denied"), ("state", stateParameter)]))
        }
        let code = FakeIDs.token(prefix: "", length: 32)
        state.codes[code] = MCPState.Code(clientID: clientID, redirectURI: redirectURI, challenge: challenge, scope: scope)
        return .redirect(to: appendingQuery(to: redirectURI, [("code", code), ("state", stateParameter)]))
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
                pending.redirectURI == redirectURI, pkceS256(verifier) == pending.challenge
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

extension FakeResponse {
    fileprivate static func oauthMethodNotAllowed(_ allowed: String) -> FakeResponse {
        oauthError(405, "invalid_request", "Method not allowed; use \(allowed).", headers: [("Allow", allowed)])
    }
}

/// A real HTTP/1.1 server on 127.0.0.1 that records every request, answers injected failures
/// first, and hands everything else to its endpoints. Each response closes its connection.
private final class FakeHTTPServer: Sendable {
    let port: Int
    private let serverChannel: any Channel
    private let journal: RequestJournal
    private let connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>

    var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(serverChannel: any Channel, journal: RequestJournal, connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>) throws {
        guard let port = serverChannel.localAddress?.port else {
            throw ChannelError.unknownLocalAddress
        }
        self.port = port
        self.serverChannel = serverChannel
        self.journal = journal
        self.connections = connections
    }

    static func start(endpoints: any FakeEndpoints) async throws -> FakeHTTPServer {
        let journal = RequestJournal()
        let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                // Tracked so stop() can end connections a client left open.
                let id = ObjectIdentifier(channel)
                connections.withLockedValue { $0[id] = channel }
                channel.closeFuture.whenComplete { _ in
                    _ = connections.withLockedValue { $0.removeValue(forKey: id) }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        FakeHTTPHandler(endpoints: endpoints, journal: journal))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return try FakeHTTPServer(serverChannel: channel, journal: journal, connections: connections)
    }

    func stop() async throws {
        try await serverChannel.close()
        for channel in connections.withLockedValue({ Array($0.values) }) {
            try? await channel.close()
        }
    }

    func failNext(path: String, response: FakeResponse) {
        journal.inject(response, path: path)
    }

    func dropNextAnswer(path: String) {
        journal.dropNext(path: path)
    }

    func requests(path: String) -> [RecordedRequest] {
        journal.requests.filter { path.contains("?") ? $0.uri == path : $0.path == path }
    }

    deinit {
        // A test that forgot stop() should not leave a listening socket behind.
        serverChannel.close(promise: nil)
    }
}

private final class RequestJournal: Sendable {
    private struct Entries {
        var requests: [RecordedRequest] = []
        var injected: [String: [FakeResponse]] = [:]
        var drops: [String: Int] = [:]
    }

    private let entries = NIOLockedValueBox(Entries())

    var requests: [RecordedRequest] {
        entries.withLockedValue { $0.requests }
    }

    func inject(_ response: FakeResponse, path: String) {
        entries.withLockedValue { $0.injected[path, default: []].append(response) }
    }

    func dropNext(path: String) {
        entries.withLockedValue { $0.drops[path, default: 0] += 1 }
    }

    /// Whether the answer to this request is to be dropped (and counts the drop as done).
    func takeDrop(path: String) -> Bool {
        entries.withLockedValue { entries in
            guard let count = entries.drops[path], count > 0 else { return false }
            entries.drops[path] = count == 1 ? nil : count - 1
            return true
        }
    }

    /// Records the request and hands back the failure injected for its path, if any.
    func record(_ request: RecordedRequest) -> FakeResponse? {
        entries.withLockedValue { entries in
            entries.requests.append(request)
            guard var queue = entries.injected[request.path], !queue.isEmpty else { return nil }
            let response = queue.removeFirst()
            entries.injected[request.path] = queue.isEmpty ? nil : queue
            return response
        }
    }
}

private final class FakeHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let endpoints: any FakeEndpoints
    private let journal: RequestJournal
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(endpoints: any FakeEndpoints, journal: RequestJournal) {
        self.endpoints = endpoints
        self.journal = journal
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head else { return }
            self.head = nil
            var headers: [String: String] = [:]
            for (name, value) in head.headers {
                let key = name.lowercased()
                headers[key] = headers[key].map { $0 + ", " + value } ?? value
            }
            let request = RecordedRequest(method: head.method.rawValue, uri: head.uri, headers: headers, body: body)
            body = []
            if let injected = journal.record(request) {
                write(injected, context: context)
                return
            }
            let port = context.channel.localAddress?.port ?? 0
            let baseURL = "http://127.0.0.1:\(port)"
            let delay = endpoints.delay(for: request)
            if delay > .zero {
                context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                    self.answer(request, baseURL: baseURL, context: context)
                }
            } else {
                answer(request, baseURL: baseURL, context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Handles the request; the answer is written unless the journal says to drop it.
    private func answer(_ request: RecordedRequest, baseURL: String, context: ChannelHandlerContext) {
        let response = endpoints.respond(to: request, baseURL: baseURL)
        if journal.takeDrop(path: request.path) {
            context.close(promise: nil)
        } else {
            write(response, context: context)
        }
    }

    private func write(_ response: FakeResponse, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        headers.replaceOrAdd(name: "Connection", value: "close")
        let head = HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
