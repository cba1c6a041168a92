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
    let providerName: String

    func request(_ parameters: [(String, String)], client: ClientCredentials) throws(NotionauthError) -> JSONValue {
        var parameters = parameters
        var headers: [(String, String)] = [("Accept", "application/json")] + versionHeaders
        switch oauth.clientAuth {
        case .basic:
            let credentials = Array("\(client.clientID):\(client.clientSecret ?? "")".utf8)
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
        let response = try context.http.send(HTTPRequest(method: "POST", url: url, headers: headers, body: body), timeoutSeconds: 30)
        guard (200..<300).contains(response.status) else {
            let code = ProviderErrorMessage.code(response)
            let message = "\(providerName) refused the token request: \(ProviderErrorMessage.describe(response))"
            switch code {
            case "invalid_client", "unauthorized_client":
                throw .authenticationFailed(message + "; check the client ID and secret (`notionauth login \(providerName) --reset-client`)")
            case "invalid_grant", "invalid_request", "unauthorized":
                throw .authenticationFailed(message)
            default:
                throw response.status == 401 || response.status == 403 ? .authenticationFailed(message) : .failure(message)
            }
        }
        guard let json = response.json, case .object = json, json["access_token"]?.stringValue != nil else {
            throw .failure("\(providerName) answered the token request without an access token")
        }
        return json
    }
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
        expiresAt = json["expires_in"]?.int64Value.map { now + $0 }
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
