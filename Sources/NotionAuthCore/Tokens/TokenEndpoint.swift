/// Token-endpoint requests as a provider definition describes them: JSON or form body,
/// client authenticated by HTTP Basic, in the body, or not at all (public clients).
public struct TokenEndpoint {
    public let url: String
    public let oauth: ProviderDefinition.OAuth
    public let versionHeaders: [(String, String)]
    public let context: Context
    public let provider: ProviderDefinition
    /// The RFC 8707 resource to name in every request (Notion MCP).
    public var resource: String?

    /// The endpoint of a provider's own OAuth (Notion), or of the MCP authorization server
    /// recorded with the client's registration.
    public static func make(provider: ProviderDefinition, client: ClientCredentials?, context: Context) throws(NotionauthError) -> TokenEndpoint {
        guard var oauth = provider.oauth else { throw .failure("\(provider.name) has no OAuth settings") }
        if provider.flows.contains(.dynamicRegistration) {
            guard let client, let server = AuthorizationServer(client: client) else {
                throw .failure("the \(provider.displayName) client registration is missing; run `notionauth login \(provider.name) --force`")
            }
            oauth.clientAuth = .none
            return TokenEndpoint(url: server.tokenEndpoint, oauth: oauth, versionHeaders: [], context: context, provider: provider, resource: server.resource)
        }
        guard let tokenURL = oauth.tokenURL else { throw .failure("\(provider.name) has no token_url") }
        let api = ProviderAPI(definition: provider, context: context)
        return TokenEndpoint(url: tokenURL, oauth: oauth, versionHeaders: api.versionHeaders, context: context, provider: provider, resource: nil)
    }

    /// An answer that is not a token: the OAuth error code (either shape) and a message.
    public struct Refusal: Sendable {
        public var status: Int
        public var code: String?
        public var message: String
    }

    public func request(_ parameters: [(String, String)], client: ClientCredentials) throws(NotionauthError) -> JSONValue {
        switch try send(parameters, client: client) {
        case let .success(json): return json
        case let .failure(box): throw error(for: box.refusal)
        }
    }

    /// Like `request`, but hands a refusal back for the caller to judge (refresh must tell
    /// `invalid_grant` from everything else).
    public func send(_ parameters: [(String, String)], client: ClientCredentials) throws(NotionauthError) -> Result<JSONValue, RefusalBox> {
        let response = try post(to: url, parameters + (resource.map { [("resource", $0)] } ?? []), client: client)
        // Some servers (GitHub) answer a refusal with 200 and an `error` field.
        guard (200..<300).contains(response.status), response.fields?["error"] == nil else {
            return .failure(RefusalBox(Refusal(status: response.status, code: ProviderErrorMessage.code(response), message: ProviderErrorMessage.describe(response))))
        }
        guard let json = response.fields, case .object = json, json["access_token"]?.stringValue != nil else {
            throw .failure("\(provider.displayName) answered the token request without an access token")
        }
        // A token goes into an Authorization header and into shells: one with a control
        // character or white space is refused, and the message never repeats it.
        for field in ["access_token", "refresh_token", "token_type"] {
            if let value = json[field]?.stringValue, !TerminalText.isUsableCredential(value) {
                throw .failure("\(provider.displayName) answered the token request with an unusable \(field) (it contains white space or control characters); nothing was stored")
            }
        }
        return .success(json)
    }

    /// A POST to one of the provider's OAuth endpoints (token, revoke, introspect), with the
    /// client authenticated and the body encoded as the definition says.
    public func post(to endpoint: String, _ parameters: [(String, String)], client: ClientCredentials) throws(NotionauthError) -> HTTPResponse {
        var parameters = parameters
        var headers: [(String, String)] = [("Accept", "application/json")] + versionHeaders
        switch oauth.clientAuth {
        case .basic:
            // RFC 6749 §2.3.1: each part form-encoded first, so an id with ':' stays whole.
            let credentials = Array("\(URLEncoding.formComponent(client.clientID)):\(URLEncoding.formComponent(client.clientSecret ?? ""))".utf8)
            headers.append(("Authorization", "Basic " + credentials.withUnsafeBytes { Sodium.base64Encode($0) }))
        case .body:
            parameters.append(("client_id", client.clientID))
            if let secret = client.clientSecret { parameters.append(("client_secret", secret)) }
        case .none:
            parameters.append(("client_id", client.clientID))
        }
        let body: [UInt8]
        switch oauth.tokenBody {
        case .json:
            headers.append(("Content-Type", "application/json"))
            body = Array(JSONValue.object(Dictionary(parameters.map { ($0.0, JSONValue.string($0.1)) }, uniquingKeysWith: { a, _ in a })).encoded().utf8)
        case .form:
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            body = Array(URLEncoding.query(parameters).utf8)
        }
        return try context.http.send(HTTPRequest(method: "POST", url: endpoint, headers: headers, body: body), timeoutSeconds: 30)
    }

    public func error(for refusal: Refusal) -> NotionauthError {
        let message = "\(provider.displayName) refused the token request: \(refusal.message)"
        switch refusal.code {
        case "invalid_client", "unauthorized_client":
            return .authenticationFailed(message + "; check the client ID and secret (`notionauth login \(provider.name) --reset-client`)")
        case "invalid_grant", "invalid_request", "unauthorized":
            return .authenticationFailed(message)
        default:
            return refusal.status == 401 || refusal.status == 403 ? .authenticationFailed(message) : .failure(message)
        }
    }
}

/// `Result` needs an `Error`; a refusal is an answer, not a failure of ours.
public struct RefusalBox: Error {
    public var refusal: TokenEndpoint.Refusal
    public init(_ refusal: TokenEndpoint.Refusal) { self.refusal = refusal }
}

extension Connection {
    /// A connection from a token response, keeping every field and the response itself.
    public init(provider: String, name: String, tokenResponse json: JSONValue, clientID: String, now: Int64) {
        self.init(provider: provider, name: name, kind: .oauth, accessToken: json["access_token"]?.stringValue ?? "", obtainedAt: now)
        apply(tokenResponse: json, now: now)
        self.clientID = clientID
    }

    /// Takes the fields of a token response (a first exchange or a refresh).
    public mutating func apply(tokenResponse json: JSONValue, now: Int64) {
        accessToken = json["access_token"]?.stringValue ?? accessToken
        if let refresh = json["refresh_token"]?.stringValue { refreshToken = refresh }
        tokenType = json["token_type"]?.stringValue ?? tokenType
        // Bounded, so a hostile or broken answer cannot overflow the arithmetic.
        expiresAt = json["expires_in"]?.int64Value.flatMap { (0...(10 * 365 * 86_400)).contains($0) ? now + $0 : nil }
        if let value = json["bot_id"]?.stringValue { botID = value }
        if let value = json["workspace_id"]?.stringValue { workspaceID = value }
        if let value = json["workspace_name"]?.stringValue { workspaceName = value }
        if let value = json["workspace_icon"]?.stringValue { workspaceIcon = value }
        if let value = json["owner"], value != .null { owner = value }
        if let value = json["duplicated_template_id"]?.stringValue { duplicatedTemplateID = value }
        raw = json
        status = .connected
    }
}
