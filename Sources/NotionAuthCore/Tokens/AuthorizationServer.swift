/// An OAuth authorization server found by discovery (RFC 9728 protected-resource metadata,
/// then RFC 8414, falling back to OpenID Connect discovery as the MCP specification asks).
public struct AuthorizationServer: Sendable {
    public var issuer: String
    public var authorizationEndpoint: String
    public var tokenEndpoint: String
    public var registrationEndpoint: String?
    public var revocationEndpoint: String?
    public var introspectionEndpoint: String?
    public var userinfoEndpoint: String?
    public var scopesSupported: [String]
    /// The RFC 8707 resource indicator to ask tokens for.
    public var resource: String?

    /// What the vault keeps, so refresh and revoke need no new discovery.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "issuer": .string(issuer),
            "authorization_endpoint": .string(authorizationEndpoint),
            "token_endpoint": .string(tokenEndpoint),
            "scopes_supported": .array(scopesSupported.map(JSONValue.string)),
        ]
        if let registrationEndpoint { object["registration_endpoint"] = .string(registrationEndpoint) }
        if let revocationEndpoint { object["revocation_endpoint"] = .string(revocationEndpoint) }
        if let introspectionEndpoint { object["introspection_endpoint"] = .string(introspectionEndpoint) }
        if let userinfoEndpoint { object["userinfo_endpoint"] = .string(userinfoEndpoint) }
        if let resource { object["resource"] = .string(resource) }
        return .object(object)
    }

    public init?(json: JSONValue) {
        guard let issuer = json["issuer"]?.stringValue,
              let authorization = json["authorization_endpoint"]?.stringValue,
              let token = json["token_endpoint"]?.stringValue else { return nil }
        self.issuer = issuer
        authorizationEndpoint = authorization
        tokenEndpoint = token
        registrationEndpoint = json["registration_endpoint"]?.stringValue
        revocationEndpoint = json["revocation_endpoint"]?.stringValue
        introspectionEndpoint = json["introspection_endpoint"]?.stringValue
        userinfoEndpoint = json["userinfo_endpoint"]?.stringValue
        if case let .array(scopes)? = json["scopes_supported"] {
            scopesSupported = scopes.compactMap(\.stringValue)
        } else {
            scopesSupported = []
        }
        resource = json["resource"]?.stringValue
    }

    public static func discover(provider: ProviderDefinition, context: Context) throws(NotionauthError) -> AuthorizationServer {
        guard let oauth = provider.oauth, let metadataURL = oauth.resourceMetadataURL else {
            throw .failure("\(provider.name) has no resource_metadata_url to discover its authorization server from")
        }
        guard let resourceMetadata = try fetchJSON(metadataURL, context: context, provider: provider) else {
            throw .failure("\(provider.displayName) discovery failed: \(metadataURL) answered HTTP 404")
        }
        guard case let .array(servers)? = resourceMetadata["authorization_servers"], let issuer = servers.first?.stringValue else {
            throw .failure("\(metadataURL) names no authorization server")
        }
        try checkEndpoint(issuer, from: metadataURL)
        var server = try discover(issuer: issuer, provider: provider, context: context)
        server.resource = oauth.resource ?? resourceMetadata["resource"]?.stringValue
        return server
    }

    /// The metadata of `issuer`: RFC 8414 first; where that does not exist, OpenID Connect
    /// discovery. Its `issuer` must be the one asked about (RFC 8414 §3.3), or another server
    /// could hand out endpoints in that issuer's name; every endpoint must pass EndpointPolicy.
    public static func discover(issuer: String, provider: ProviderDefinition, context: Context) throws(NotionauthError) -> AuthorizationServer {
        let (rfc8414, openID) = metadataURLs(issuer: issuer)
        var found = try fetchJSON(rfc8414, context: context, provider: provider)
        if found == nil { found = try fetchJSON(openID, context: context, provider: provider) }
        guard let metadata = found else {
            throw .failure("\(provider.displayName) discovery failed: neither \(rfc8414) nor \(openID) exists")
        }
        guard let server = AuthorizationServer(json: metadata) else {
            throw .failure("the authorization server metadata of \(issuer) lacks its endpoints")
        }
        guard server.issuer == issuer else {
            throw .failure("\(provider.displayName) discovery failed: the metadata of \(issuer) names another issuer, '\(TerminalText.sanitize(server.issuer))' (RFC 8414 §3.3); nothing was used")
        }
        let optional = [server.registrationEndpoint, server.revocationEndpoint, server.introspectionEndpoint, server.userinfoEndpoint]
        for endpoint in [server.authorizationEndpoint, server.tokenEndpoint] + optional.compactMap({ $0 }) {
            try checkEndpoint(endpoint, from: issuer)
        }
        return server
    }

    /// Where an issuer's metadata is: RFC 8414 §3.1 inserts the well-known name between the
    /// host and the issuer's path (`https://id.example.com/.well-known/oauth-authorization-server/tenant`);
    /// OpenID Connect Discovery appends it to the issuer (`…/tenant/.well-known/openid-configuration`).
    /// Without a path, both are the same kind of address.
    static func metadataURLs(issuer: String) -> (rfc8414: String, openID: String) {
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        var origin = base, path = ""
        if let schemeEnd = base.range(of: "://"), let slash = base[schemeEnd.upperBound...].firstIndex(of: "/") {
            origin = String(base[..<slash])
            path = String(base[slash...])
        }
        return (origin + "/.well-known/oauth-authorization-server" + path, base + "/.well-known/openid-configuration")
    }

    /// RFC 7591 registration of a public client (no secret; PKCE protects the code).
    public func register(redirectURI: String, provider: ProviderDefinition, context: Context) throws(NotionauthError) -> ClientCredentials {
        guard let registrationEndpoint else {
            throw .failure("the authorization server of \(provider.displayName) offers no dynamic client registration")
        }
        let body: JSONValue = .object([
            "client_name": .string("notionauth"),
            "redirect_uris": .array([.string(redirectURI)]),
            "grant_types": .array([.string("authorization_code"), .string("refresh_token")]),
            "response_types": .array([.string("code")]),
            "token_endpoint_auth_method": .string("none"),
        ])
        let response = try context.http.send(HTTPRequest(
            method: "POST", url: registrationEndpoint,
            headers: [("Content-Type", "application/json"), ("Accept", "application/json")],
            body: Array(body.encoded().utf8)), timeoutSeconds: 30)
        guard (200..<300).contains(response.status), let json = response.json, let clientID = json["client_id"]?.stringValue else {
            throw .failure("\(provider.displayName) refused the client registration: \(ProviderErrorMessage.describe(response))")
        }
        var client = ClientCredentials(provider: provider.name, clientID: clientID, clientSecret: json["client_secret"]?.stringValue)
        client.redirectURI = redirectURI
        client.registrationJSON = JSONValue.object(["server": self.json, "registration": json]).encoded()
        return client
    }

    /// The server a stored registration was made with.
    public init?(client: ClientCredentials) {
        guard let text = client.registrationJSON, let json = try? JSONValue.parse(Array(text.utf8)),
              let server = json["server"], let parsed = AuthorizationServer(json: server) else { return nil }
        self = parsed
    }

    private static func checkEndpoint(_ url: String, from source: String) throws(NotionauthError) {
        if let problem = EndpointPolicy.problem(with: url) {
            throw .failure("\(source) points at an unsafe endpoint: \(TerminalText.sanitize(problem))")
        }
    }

    /// The JSON object at `url`, or nil when it answers 404.
    private static func fetchJSON(_ url: String, context: Context, provider: ProviderDefinition) throws(NotionauthError) -> JSONValue? {
        let response = try context.http.send(HTTPRequest(method: "GET", url: url, headers: [("Accept", "application/json")]), timeoutSeconds: 30)
        if response.status == 404 { return nil }
        guard (200..<300).contains(response.status), let json = response.json, case .object = json else {
            throw .failure("\(provider.displayName) discovery failed: \(url) answered HTTP \(response.status)")
        }
        return json
    }
}
