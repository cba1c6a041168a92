import Foundation
import Synchronization
import Testing
@testable import NotionAuthCore
@testable import NotionAuthCLI

/// A provider that names an `issuer` gets its endpoints from the issuer's metadata (RFC 8414,
/// else OpenID Connect discovery), cached with its client in the vault for a day.
@Suite struct OIDCIssuerTests {
    static func load(_ oauth: String, api: String? = nil) throws(NotionauthError) -> ProviderDefinition {
        let json = """
        {"schema_version": 1, "name": "acme-id", "flows": ["authorization_code"], "oauth": {\(oauth)},
         \(api.map { "\"api\": {\($0)}," } ?? "") "export": {"access_token": ["ACME_TOKEN"]}}
        """
        return try ProviderLoader.load(Array(json.utf8), file: "acme-id.json", expectedName: "acme-id").0
    }

    static func loadError(_ oauth: String) -> String {
        do {
            _ = try load(oauth)
            return "loaded"
        } catch {
            return error.description
        }
    }

    @Test func anIssuerStandsInForTheEndpointsAndTheAPIBaseURL() throws {
        let provider = try Self.load(#""issuer": "https://id.example.com", "client_auth": "body", "scopes": ["openid", "email"]"#)
        #expect(provider.oauth?.issuer == "https://id.example.com")
        #expect(provider.oauth?.authorizationURL == nil && provider.oauth?.tokenURL == nil)
        #expect(provider.api.baseURL == "https://id.example.com")
    }

    @Test func withoutAnIssuerTheAuthorizationCodeFlowStillNeedsItsEndpoints() {
        #expect(Self.loadError(#""token_url": "https://id.example.com/token""#).contains("$.oauth.authorization_url"))
    }

    @Test func anIssuerMustUseHTTPSExceptOnLoopback() throws {
        #expect(Self.loadError(#""issuer": "http://id.example.com""#).contains("$.oauth.issuer"))
        #expect(Self.loadError(#""issuer": "https://id.example.com/?tenant=1""#).contains("no query or fragment"))
        #expect(try Self.load(#""issuer": "http://127.0.0.1:9400""#).oauth?.issuer == "http://127.0.0.1:9400")
    }

    @Test func scopesAreJoinedWithTheDefinitionsSeparator() throws {
        let spaced = try Self.load(#""issuer": "https://id.example.com", "scopes": ["openid", "email"]"#)
        #expect(spaced.oauth?.scopeParameter() == "openid email")
        let commas = try Self.load(#""scope_separator": ",", "issuer": "https://id.example.com", "scopes": ["read", "write"]"#)
        #expect(commas.oauth?.scopeParameter() == "read,write")
        #expect(commas.oauth?.scopeParameter([]) == nil)
    }

    @Test func aScopeSeparatorIsOneHarmlessCharacter() {
        for separator in [",,", "&", "#", "\\u0007", ""] {
            let message = Self.loadError(#""issuer": "https://id.example.com", "scope_separator": "\#(separator)""#)
            #expect(message.contains("$.oauth.scope_separator"), "\(separator): \(message)")
        }
    }

    @Test func theMetadataIsLookedForWhereRFC8414AndOpenIDConnectDiscoveryPutIt() {
        let plain = AuthorizationServer.metadataURLs(issuer: "https://id.example.com")
        #expect(plain.rfc8414 == "https://id.example.com/.well-known/oauth-authorization-server")
        #expect(plain.openID == "https://id.example.com/.well-known/openid-configuration")
        let tenant = AuthorizationServer.metadataURLs(issuer: "https://id.example.com/tenant/a/")
        #expect(tenant.rfc8414 == "https://id.example.com/.well-known/oauth-authorization-server/tenant/a")
        #expect(tenant.openID == "https://id.example.com/tenant/a/.well-known/openid-configuration")
    }

    @Test func revocationAndIntrospectionComeFromTheMetadataToo() throws {
        let provider = try Self.load(#""issuer": "https://id.example.com""#)
        let server = try #require(AuthorizationServer(json: .object([
            "issuer": .string("https://id.example.com"),
            "authorization_endpoint": .string("https://id.example.com/authorize"),
            "token_endpoint": .string("https://id.example.com/token"),
            "revocation_endpoint": .string("https://id.example.com/revoke"),
            "introspection_endpoint": .string("https://id.example.com/introspect"),
        ])))
        let resolved = try #require(provider.withEndpoints(of: server).oauth)
        #expect(resolved.revocationURL == "https://id.example.com/revoke")
        #expect(resolved.introspectionURL == "https://id.example.com/introspect")
    }

    @Test func endpointsWrittenInTheDefinitionWinOverDiscoveredOnes() throws {
        let provider = try Self.load(#""issuer": "https://id.example.com", "token_url": "https://id.example.com/custom-token""#)
        let server = try #require(AuthorizationServer(json: .object([
            "issuer": .string("https://id.example.com"),
            "authorization_endpoint": .string("https://id.example.com/authorize"),
            "token_endpoint": .string("https://id.example.com/token"),
            "userinfo_endpoint": .string("https://id.example.com/userinfo"),
        ])))
        let resolved = try #require(provider.withEndpoints(of: server).oauth)
        #expect(resolved.tokenURL == "https://id.example.com/custom-token")
        #expect(resolved.authorizationURL == "https://id.example.com/authorize")
        #expect(resolved.userinfoURL == "https://id.example.com/userinfo")
        #expect(resolved.revocationURL == nil)
    }

    @Test func cachedMetadataIsUsedWhileFreshAndNotOnceStaleOrForAnotherIssuer() throws {
        let server = try #require(AuthorizationServer(json: .object([
            "issuer": .string("https://id.example.com"),
            "authorization_endpoint": .string("https://id.example.com/authorize"),
            "token_endpoint": .string("https://id.example.com/token"),
        ])))
        let client = IssuerMetadata.caching(server, in: ClientCredentials(provider: "acme-id", clientID: "c", clientSecret: "s"), now: 1_000)
        #expect(IssuerMetadata.cached(in: client, issuer: "https://id.example.com", now: 1_000 + 3600)?.tokenEndpoint == "https://id.example.com/token")
        #expect(IssuerMetadata.cached(in: client, issuer: "https://id.example.com", now: 1_000 + IssuerMetadata.lifetimeSeconds) == nil)
        #expect(IssuerMetadata.cached(in: client, issuer: "https://other.example.com", now: 1_000) == nil)
        #expect(IssuerMetadata.cached(in: client, issuer: "https://id.example.com", now: 999) == nil)
    }

    @Test func metadataNamingAnotherIssuerIsRefused() throws {
        let provider = try Self.load(#""issuer": "https://id.example.com""#)
        let http = CannedHTTP([
            "https://id.example.com/.well-known/openid-configuration": #"{"issuer": "https://evil.example.com", "authorization_endpoint": "https://evil.example.com/a", "token_endpoint": "https://evil.example.com/t"}"#,
        ])
        do {
            _ = try IssuerMetadata.resolve(provider, client: nil, context: Self.context(http))
            Issue.record("metadata for another issuer was accepted")
        } catch {
            #expect(error.description.contains("names another issuer"), "\(error.description)")
        }
        // RFC 8414 first, then OpenID Connect discovery.
        #expect(http.asked == ["https://id.example.com/.well-known/oauth-authorization-server", "https://id.example.com/.well-known/openid-configuration"])
    }

    @Test func discoveredEndpointsMustPassTheEndpointPolicy() throws {
        let provider = try Self.load(#""issuer": "https://id.example.com""#)
        let http = CannedHTTP([
            "https://id.example.com/.well-known/oauth-authorization-server": #"{"issuer": "https://id.example.com", "authorization_endpoint": "https://id.example.com/a", "token_endpoint": "http://id.example.com/t"}"#,
        ])
        #expect(throws: NotionauthError.self) { try IssuerMetadata.resolve(provider, client: nil, context: Self.context(http)) }
        #expect(http.asked == ["https://id.example.com/.well-known/oauth-authorization-server"])
    }

    static func context(_ http: some HTTPTransport) -> Context {
        Context(
            environment: [:], stdout: OutputSink(), stderr: OutputSink(),
            readStandardInput: { [] }, stdinIsTerminal: false, stdoutIsTerminal: false, stderrIsTerminal: false,
            promptSecret: { _ in nil }, now: { 1_790_000_000 }, http: http, openBrowser: { _ in false })
    }
}

/// Answers from a table (404 for anything else) and remembers what was asked.
final class CannedHTTP: HTTPTransport {
    let answers: [String: String]
    private let log = Mutex<[String]>([])

    init(_ answers: [String: String]) { self.answers = answers }

    var asked: [String] { log.withLock { $0 } }

    func send(_ request: HTTPRequest, timeoutSeconds: Int64) throws(NotionauthError) -> HTTPResponse {
        log.withLock { $0.append(request.url) }
        guard let body = answers[request.url] else { return HTTPResponse(status: 404, headers: [], body: []) }
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array(body.utf8))
    }
}
