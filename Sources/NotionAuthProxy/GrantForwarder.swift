import NIOConcurrencyHelpers
import NotionAuthCore

/// Sends a child's request to a provider's API host with the connection's token, as
/// `APIClient` does for `api`: refreshed when due, and once more after a 401. Unlike it, the
/// child's own headers go through, a 429 goes back to the child (its SDK has its own
/// back-off), and a refresh is taken in turns within the process, so that twenty requests
/// refused at once make one refresh, not twenty reads of the store.
final class GrantForwarder: Sendable {
    let provider: ProviderDefinition
    let origin: ProxyOrigin
    private let refresh: TokenRefresh
    private let http: any HTTPTransport
    private let versionHeaders: [(String, String)]
    /// The connection the last request used (or the last refresh made).
    private let latest: NIOLockedValueBox<Connection>
    /// One refresh at a time within the process; across processes the store's lock decides.
    private let refreshTurn = NIOLock()

    static let timeoutSeconds: Int64 = 120

    init(grant: RunProxy.Grant, origin: ProxyOrigin, broker: Broker) {
        provider = grant.provider
        self.origin = origin
        refresh = TokenRefresh(broker: broker, provider: grant.provider)
        http = broker.context.http
        versionHeaders = ProviderAPI(definition: grant.provider, context: broker.context).versionHeaders
        latest = NIOLockedValueBox(grant.connection)
    }

    /// The upstream answer, or one of ours (401 when the connection cannot be used, 502 when
    /// the host cannot be reached) in Notion's error shape, with nothing of the token in it.
    func forward(method: String, target: String, headers: [(String, String)], body: [UInt8]?) -> HTTPResponse {
        do throws(NotionauthError) {
            var connection = try inTurn { () throws(NotionauthError) in
                let usable = try refresh.usable(latest.withLockedValue { $0 })
                latest.withLockedValue { $0 = usable }
                return usable
            }
            var outgoing = ProxyHeaders.forUpstream(headers)
            for (name, value) in versionHeaders where !outgoing.contains(where: { $0.0.lowercased() == name.lowercased() }) {
                outgoing.append((name, value))
            }
            let url = origin.url + target
            for attempt in 0..<2 {
                let request = HTTPRequest(
                    method: method, url: url, headers: [("Authorization", "Bearer \(connection.accessToken)")] + outgoing, body: body)
                let response = try http.send(request, timeoutSeconds: Self.timeoutSeconds)
                guard response.status == 401, attempt == 0 else { return response }
                let rejected = connection
                connection = try inTurn { () throws(NotionauthError) in
                    // Another request refreshed while this one waited its turn: use its token.
                    let current = latest.withLockedValue { $0 }
                    if current.accessToken != rejected.accessToken { return current }
                    let renewed = try refresh.afterRejection(of: rejected)
                    latest.withLockedValue { $0 = renewed }
                    return renewed
                }
            }
            preconditionFailure("the loop returns on its second attempt")
        } catch {
            return Self.answer(for: error, provider: provider)
        }
    }

    private func inTurn(_ body: () throws(NotionauthError) -> Connection) throws(NotionauthError) -> Connection {
        refreshTurn.lock()
        defer { refreshTurn.unlock() }
        return try body()
    }

    static func answer(for error: NotionauthError, provider: ProviderDefinition) -> HTTPResponse {
        let status: Int
        let code: String
        switch error {
        case .notLoggedIn, .credentialUnusable, .authenticationFailed:
            (status, code) = (401, "unauthorized")
        default:
            (status, code) = (502, "notionauth_proxy_error")
        }
        return ProxyHeaders.errorResponse(status: status, code: code, message: "notionauth proxy: \(error.description)")
    }
}

/// Where a provider's API lives, as the proxy matches CONNECT requests against it.
struct ProxyOrigin: Sendable, Equatable {
    let scheme: String
    /// Lower-cased; an IPv6 address without brackets.
    let host: String
    let port: Int

    init?(url: String) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "https" || scheme == "http" else { return nil }
        let authority = String(url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" })
        guard let (host, port) = Self.split(authority: authority, defaultPort: scheme == "https" ? 443 : 80) else { return nil }
        self.host = host
        self.port = port
    }

    init(scheme: String, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// `host:port` (a CONNECT target, or a URL's authority without user info) into its parts.
    static func split(authority: String, defaultPort: Int?) -> (host: String, port: Int)? {
        var authority = Substring(authority)
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let host: Substring
        var rest: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            rest = authority[authority.index(after: close)...]
        } else {
            host = authority.prefix { $0 != ":" }
            rest = authority[host.endIndex...]
        }
        guard !host.isEmpty, host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") }) else { return nil }
        let port: Int
        if rest.isEmpty {
            guard let defaultPort else { return nil }
            port = defaultPort
        } else {
            guard rest.first == ":" else { return nil }
            rest = rest.dropFirst()
            guard let number = Int(rest), (1...65535).contains(number), rest.allSatisfy(\.isNumber) else { return nil }
            port = number
        }
        return (host.lowercased(), port)
    }

    var url: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let defaultPort = scheme == "https" ? 443 : 80
        return port == defaultPort ? "\(scheme)://\(shownHost)" : "\(scheme)://\(shownHost):\(port)"
    }
}

/// Which headers cross the proxy, and the answers it makes itself.
enum ProxyHeaders {
    /// Hop-by-hop headers (RFC 9110 §7.6.1), the proxy's own, and what the client library
    /// sets again from the URL and body.
    static let notForwarded: Set<String> = [
        "connection", "keep-alive", "proxy-authorization", "proxy-authenticate", "proxy-connection", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length",
    ]

    /// The child's headers as the upstream gets them: without hop-by-hop ones (and those its
    /// Connection header names), and without any Authorization of its own — the proxy sets that.
    static func forUpstream(_ headers: [(String, String)]) -> [(String, String)] {
        let named = connectionOptions(headers)
        return headers.filter { name, _ in
            let lower = name.lowercased()
            return !notForwarded.contains(lower) && !named.contains(lower) && lower != "authorization"
        }
    }

    /// The upstream's headers as the child gets them.
    static func forChild(_ headers: [(String, String)]) -> [(String, String)] {
        let named = connectionOptions(headers)
        return headers.filter { name, _ in
            let lower = name.lowercased()
            return !notForwarded.contains(lower) && !named.contains(lower)
        }
    }

    private static func connectionOptions(_ headers: [(String, String)]) -> Set<String> {
        Set(headers.filter { $0.0.lowercased() == "connection" }.flatMap { $0.1.split(separator: ",") }
            .map { String($0.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()).lowercased() })
    }

    /// An answer of the proxy's own, in Notion's error shape (`object`, `status`, `code`,
    /// `message`), which Notion's SDKs show as they show Notion's errors.
    static func errorResponse(status: Int, code: String, message: String, headers: [(String, String)] = []) -> HTTPResponse {
        let body: JSONValue = .object([
            "object": .string("error"), "status": .int(Int64(status)), "code": .string(code), "message": .string(message),
        ])
        return HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(body.encoded().utf8))
    }
}
