import AsyncHTTPClient
import NIOCore
import NIOHTTP1

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
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public init() {}

    public func send(_ request: HTTPRequest, timeoutSeconds: Int64) throws(NotionauthError) -> HTTPResponse {
        let host = EndpointPolicy.host(of: request.url) ?? request.url
        var headers = HTTPHeaders()
        headers.add(name: "User-Agent", value: "notionauth/\(Version.current)")
        for (name, value) in request.headers { headers.add(name: name, value: value) }
        do {
            let outgoing = try HTTPClient.Request(
                url: request.url, method: HTTPMethod(rawValue: request.method), headers: headers,
                body: request.body.map { .bytes($0) })
            let response = try Self.client.execute(request: outgoing, deadline: .now() + .seconds(timeoutSeconds)).wait()
            return HTTPResponse(
                status: Int(response.status.code),
                headers: response.headers.map { ($0.name, $0.value) },
                body: response.body.map { Array(buffer: $0) } ?? [])
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw .network("\(host) did not answer within \(timeoutSeconds) seconds")
        } catch {
            throw .network("cannot reach \(host): \(Self.describe(error))")
        }
    }

    private static func describe(_ error: Error) -> String {
        if let channelError = error as? ChannelError { return "\(channelError)" }
        if let ioError = error as? IOError { return ioError.description }
        let text = "\(error)"
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
