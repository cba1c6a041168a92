import Foundation

/// Percent-encoding for query strings and form bodies (RFC 3986 unreserved characters pass).
public enum URLEncoding {
    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    public static func component(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                out.append(Character(Unicode.Scalar(byte)))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    public static func query(_ pairs: [(String, String)]) -> String {
        pairs.map { component($0.0) + "=" + component($0.1) }.joined(separator: "&")
    }

    /// application/x-www-form-urlencoded (RFC 6749 Appendix B): as `component`, but a space
    /// becomes `+`. What HTTP Basic client authentication encodes the id and secret with.
    public static func formComponent(_ text: String) -> String {
        component(text).replacing("%20", with: "+")
    }

    /// application/x-www-form-urlencoded fields ('+' is a space); the first of repeated
    /// names wins. Decoded byte by byte rather than through URLComponents, which traps on
    /// bytes a URL may not contain: these bodies and queries come from whoever connects.
    public static func formFields(_ body: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = formDecode(parts[0])
            if fields[name] == nil { fields[name] = parts.count > 1 ? formDecode(parts[1]) : "" }
        }
        return fields
    }

    /// `%XX` becomes the byte, `+` a space; a malformed escape stays as it is.
    public static func formDecode(_ bytes: ArraySlice<UInt8>) -> String {
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let byte = bytes[i]
            if byte == UInt8(ascii: "%"), i + 2 < bytes.endIndex,
               let high = hex(bytes[i + 1]), let low = hex(bytes[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `base` with `pairs` appended to its query.
    public static func url(_ base: String, _ pairs: [(String, String)]) -> String {
        base + (base.contains("?") ? "&" : "?") + query(pairs)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// PKCE (RFC 7636) with S256: a 43-character verifier from libsodium's CSPRNG.
public struct PKCE: Sendable {
    public let verifier: String
    public let challenge: String

    public init() {
        verifier = Base64URL.encode(Sodium.randomBytes(32))
        challenge = Base64URL.encode(Sodium.sha256(Array(verifier.utf8)))
    }
}

/// Where the browser is sent back: `http://127.0.0.1:7998/auth/callback/oauth` unless
/// NOTION_REDIRECT_URI (any loopback http URI) or --port says otherwise.
public struct RedirectTarget: Equatable, Sendable {
    public static let defaultURI = "http://127.0.0.1:7998/auth/callback/oauth"

    public var uri: String
    /// The IP literal to bind: 127.0.0.1, or ::1 for an [::1] redirect URI.
    public var bindHost: String
    public var port: Int
    public var path: String

    public static func resolve(environment: [String: String], port portOption: Int?) throws(NotionauthError) -> RedirectTarget {
        let configured = environment["NOTION_REDIRECT_URI"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultURI
        guard let components = URLComponents(string: configured), components.scheme == "http",
              let host = components.host, EndpointPolicy.isLoopback(host.hasPrefix("[") || !host.contains(":") ? host : "[\(host)]")
        else {
            throw .usage("NOTION_REDIRECT_URI must be an http URI on 127.0.0.1, localhost or [::1] (got \(configured))", command: "login")
        }
        var target = components
        if let portOption { target.port = portOption }
        guard let port = target.port, port > 0, port < 65536 else {
            throw .usage("the redirect URI needs a port: \(configured)", command: "login")
        }
        let path = target.percentEncodedPath.isEmpty ? "/" : target.percentEncodedPath
        // `/` is where the first-run page lives.
        guard path != "/" else {
            throw .usage("the redirect URI needs a path other than / (such as /auth/callback/oauth): \(configured)", command: "login")
        }
        target.percentEncodedPath = path
        let bindHost = host.contains(":") || host == "[::1]" ? "::1" : "127.0.0.1"
        return RedirectTarget(uri: target.string ?? configured, bindHost: bindHost, port: port, path: path)
    }
}

/// Token-endpoint requests as a provider definition describes them: JSON or form body,
/// client authenticated by HTTP Basic, in the body, or not at all (public clients).
struct TokenEndpoint {
    let url: String
    let oauth: ProviderDefinition.OAuth
    let versionHeaders: [(String, String)]
    let context: Context
    let provider: ProviderDefinition
    /// The RFC 8707 resource to name in every request (Notion MCP).
    var resource: String?

    /// The endpoint of a provider's own OAuth (Notion), or of the MCP authorization server
    /// recorded with the client's registration.
    static func make(provider: ProviderDefinition, client: ClientCredentials?, context: Context) throws(NotionauthError) -> TokenEndpoint {
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
    struct Refusal {
        var status: Int
        var code: String?
        var message: String
    }

    func request(_ parameters: [(String, String)], client: ClientCredentials) throws(NotionauthError) -> JSONValue {
        switch try send(parameters, client: client) {
        case let .success(json): return json
        case let .failure(box): throw error(for: box.refusal)
        }
    }

    /// Like `request`, but hands a refusal back for the caller to judge (refresh must tell
    /// `invalid_grant` from everything else).
    func send(_ parameters: [(String, String)], client: ClientCredentials) throws(NotionauthError) -> Result<JSONValue, RefusalBox> {
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
    func post(to endpoint: String, _ parameters: [(String, String)], client: ClientCredentials) throws(NotionauthError) -> HTTPResponse {
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

    func error(for refusal: Refusal) -> NotionauthError {
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
struct RefusalBox: Error {
    var refusal: TokenEndpoint.Refusal
    init(_ refusal: TokenEndpoint.Refusal) { self.refusal = refusal }
}

extension Connection {
    /// A connection from a token response, keeping every field and the response itself.
    init(provider: String, name: String, tokenResponse json: JSONValue, clientID: String, now: Int64) {
        self.init(provider: provider, name: name, kind: .oauth, accessToken: json["access_token"]?.stringValue ?? "", obtainedAt: now)
        apply(tokenResponse: json, now: now)
        self.clientID = clientID
    }

    /// Takes the fields of a token response (a first exchange or a refresh).
    mutating func apply(tokenResponse json: JSONValue, now: Int64) {
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
