import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOSSL

public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?

    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

extension HTTPRequest {
    /// RFC 9110 `token` characters: what a method (and a header name) may consist of.
    public static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }

    /// Why this request must not be sent, or nil. A method, URL or header that carries a
    /// control character could split the request in two (the second one carrying our
    /// token), and HTTP clients that refuse such values put them in their error text, so
    /// they are refused here first, with a message that names the header but never its value.
    public var problem: String? {
        guard Self.isToken(method) else { return "the HTTP method is not a valid token (letters, digits and !#$%&'*+-.^_`|~)" }
        if url.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            return "the URL contains a space, a control character or a non-ASCII byte; percent-encode it"
        }
        for (name, value) in headers {
            guard Self.isToken(name) else { return "the header name \(TerminalText.sanitize(name)) is not a valid token" }
            if value.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || (0x7F...0x9F).contains($0.value) }) {
                return "the value of the \(name) header contains a control character"
            }
        }
        return nil
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    public var json: JSONValue? { try? JSONValue.parse(body) }

    /// The body's fields: JSON, or a form-encoded body as an object of strings (some OAuth
    /// servers answer that way despite `Accept: application/json`; decoding it also turns
    /// `+` and `%XX` in an `error_description` back into text).
    public var fields: JSONValue? {
        if let json { return json }
        guard header("Content-Type")?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else { return nil }
        return .object(URLEncoding.formFields(body).mapValues(JSONValue.string))
    }
}

/// Sends HTTP requests; the context holds one, tests may hold another.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest, timeoutSeconds: Int64) throws(NotionauthError) -> HTTPResponse
}

/// AsyncHTTPClient over SwiftNIO: statically linked, and unlike FoundationNetworking it
/// costs nothing at start-up when a command makes no request. Its future-based API keeps
/// commands synchronous: the request runs on NIO's threads while the caller waits, so no
/// command pays for starting Swift concurrency.
public struct AsyncHTTPTransport: HTTPTransport {
    // Created on first use and kept for the life of the process, which never shuts it down.
    private static let client: HTTPClient = makeClient(tls: nil)
    /// Clients that also trust NOTIONAUTH_CA_FILE's certificates, by path: made only when a
    /// request is sent, so that a command that sends none never reads the file.
    private static let clientsWithRoots = NIOLockedValueBox<[String: HTTPClient]>([:])

    /// `NOTIONAUTH_CA_FILE`: PEM certificates trusted in addition to the system's roots (a
    /// company's TLS-inspecting proxy, the tests' fake server). Verification stays on.
    public let extraRootsFile: String?

    public init(extraRootsFile: String? = nil) {
        self.extraRootsFile = extraRootsFile.flatMap { $0.isEmpty ? nil : $0 }
    }

    private static func makeClient(tls: TLSConfiguration?) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        configuration.tlsConfiguration = tls
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    private func client() throws(NotionauthError) -> HTTPClient {
        guard let path = extraRootsFile else { return Self.client }
        if let made = Self.clientsWithRoots.withLockedValue({ $0[path] }) { return made }
        let tls = try Self.tlsConfiguration(extraRootsFile: path)
        return Self.clientsWithRoots.withLockedValue { clients in
            if let made = clients[path] { return made }
            let made = Self.makeClient(tls: tls)
            clients[path] = made
            return made
        }
    }

    /// TLS for a client of our own that trusts NOTIONAUTH_CA_FILE's certificates as well as
    /// the system's (nil: the defaults); the MCP bridge's client uses it too.
    public static func tlsConfiguration(extraRootsFile path: String?) throws(NotionauthError) -> TLSConfiguration? {
        guard let path, !path.isEmpty else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = [.certificates(try certificates(inPEMFile: path))]
        return tls
    }

    /// The certificates in a PEM file, or an error naming the file: a file that holds none is
    /// a mistake to report, not a reason to fall back to the system's roots alone.
    static func certificates(inPEMFile path: String) throws(NotionauthError) -> [NIOSSLCertificate] {
        guard let contents = try FileSystem.readFile(path) else {
            throw .io(path: path, reason: "NOTIONAUTH_CA_FILE names a file that does not exist")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(contents.bytes)
        } catch {
            throw .io(path: path, reason: "NOTIONAUTH_CA_FILE is not a file of PEM certificates (\(error))")
        }
        guard !certificates.isEmpty else {
            throw .io(path: path, reason: "NOTIONAUTH_CA_FILE holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        return certificates
    }

    public func send(_ request: HTTPRequest, timeoutSeconds: Int64) throws(NotionauthError) -> HTTPResponse {
        if let problem = request.problem { throw .failure("refusing to send the request: \(problem)") }
        let client = try client()
        let host = EndpointPolicy.host(of: request.url) ?? request.url
        var headers = HTTPHeaders()
        // A caller that names its own (the proxy forwarding a child's request) keeps it.
        if !request.headers.contains(where: { $0.0.lowercased() == "user-agent" }) {
            headers.add(name: "User-Agent", value: "notionauth/\(Version.current)")
        }
        for (name, value) in request.headers { headers.add(name: name, value: value) }
        do {
            let outgoing = try HTTPClient.Request(
                url: request.url, method: HTTPMethod(rawValue: request.method), headers: headers,
                body: request.body.map { .bytes($0) })
            let response = try client.execute(request: outgoing, deadline: .now() + .seconds(timeoutSeconds)).wait()
            return HTTPResponse(
                status: Int(response.status.code),
                headers: response.headers.map { ($0.name, $0.value) },
                body: response.body.map { Array(buffer: $0) } ?? [])
        } catch let error as HTTPClientError where error == .connectTimeout {
            throw .network("cannot reach \(host): the connection timed out")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            // The request may have been acted on: a refresh must know (see TokenRefresh).
            throw .noAnswer("\(host) did not answer within \(timeoutSeconds) seconds")
        } catch let error as HTTPClientError where error == .remoteConnectionClosed {
            throw .noAnswer("\(host) closed the connection without answering")
        } catch {
            throw .network("cannot reach \(host): \(Self.describe(error, request: request))")
        }
    }

    /// The error's own words, without any header value of the request in them: clients
    /// quote the values they refuse, and ours include the bearer token.
    static func describe(_ error: Error, request: HTTPRequest) -> String {
        if let channelError = error as? ChannelError { return "\(channelError)" }
        if let ioError = error as? IOError { return ioError.description }
        var text = "\(error)"
        for (_, value) in request.headers where value.count >= 4 {
            text = text.replacing(value, with: "[redacted]")
        }
        if let body = request.body, body.count >= 4, let bodyText = String(validating: body, as: UTF8.self) {
            text = text.replacing(bodyText, with: "[redacted]")
        }
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
