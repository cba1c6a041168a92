/// What notionauth knows about one provider: how to log in, call its API and export its token.
/// The JSON schema is documented in notionauth-providers(5).
public struct ProviderDefinition: Equatable, Sendable {
    public enum Flow: String, CaseIterable, Sendable {
        /// OAuth authorization code with a registered client id and secret.
        case authorizationCode = "authorization_code"
        /// OAuth dynamic client registration (RFC 7591) and PKCE, as Notion's hosted MCP server wants.
        case dynamicRegistration = "dynamic_registration"
        /// A token pasted on standard input (internal integrations, personal access tokens).
        case token
    }

    /// How the token endpoint authenticates the client.
    public enum ClientAuth: String, CaseIterable, Sendable {
        case basic, body, none
    }

    /// How token-endpoint request bodies are encoded.
    public enum BodyEncoding: String, CaseIterable, Sendable {
        case json, form
    }

    public struct OAuth: Equatable, Sendable {
        /// RFC 8414 issuer whose metadata supplies every endpoint the definition leaves out.
        public var issuer: String?
        public var authorizationURL: String?
        public var tokenURL: String?
        public var revocationURL: String?
        public var introspectionURL: String?
        /// OpenID Connect userinfo, asked who the token belongs to when there is no identity_path.
        public var userinfoURL: String?
        /// RFC 9728 protected-resource metadata, where the authorization server is discovered.
        public var resourceMetadataURL: String?
        /// RFC 8707 resource indicator sent with authorization and token requests.
        public var resource: String?
        public var clientAuth: ClientAuth
        public var tokenBody: BodyEncoding
        public var pkce: Bool
        public var scopes: [String]
        /// RFC 6749 says a space; a few providers want commas.
        public var scopeSeparator: String
        public var authorizeParams: [String: String]

        /// The `scope` parameter's value, nil when there are no scopes to ask for.
        public func scopeParameter(_ scopes: [String]? = nil) -> String? {
            let scopes = scopes ?? self.scopes
            return scopes.isEmpty ? nil : scopes.joined(separator: scopeSeparator)
        }
    }

    public struct API: Equatable, Sendable {
        public var baseURL: String
        public var versionHeader: String?
        public var defaultVersion: String?
        public var identityPath: String?
    }

    /// The provider's hosted MCP server, which `notionauth mcp` bridges to over streamable HTTP.
    public struct MCP: Equatable, Sendable {
        public var url: String
    }

    public var schemaVersion: Int
    public var name: String
    public var displayName: String
    public var docsURL: String?
    public var flows: [Flow]
    public var oauth: OAuth?
    public var api: API
    public var mcp: MCP?
    /// Expected token prefixes; a token without one gets a warning, never a refusal.
    public var tokenPrefixes: [String]
    /// Environment variable names the access token is exported under.
    public var exportAccessToken: [String]
    public var clientIDEnvironment: String?
    public var clientSecretEnvironment: String?

    public var authType: String {
        if flows.contains(.dynamicRegistration) { return "oauth+dcr" }
        if flows.contains(.authorizationCode) { return flows.contains(.token) ? "oauth|token" : "oauth" }
        return "token"
    }
}
