import AsyncHTTPClient
import Foundation

/// A fake server as a test holds it: what every fake offers, whatever it imitates (its
/// address, stopping, the requests it received, injected failures, a browser's first hop),
/// over the endpoints that make it Notion or Notion MCP. What is particular to one of them
/// lives in its own extension: `FakeNotionServer` and `FakeMCPServer`.
final class FakeServer<Endpoints: FakeEndpoints>: Sendable {
    let http: FakeHTTPServer
    /// The same server over HTTPS, on a port of its own, when started with `tls`.
    let https: FakeHTTPServer?
    let endpoints: Endpoints

    private init(http: FakeHTTPServer, https: FakeHTTPServer?, endpoints: Endpoints) {
        self.http = http
        self.https = https
        self.endpoints = endpoints
    }

    /// Starts listening on a port of its own on 127.0.0.1; with `tls`, also over HTTPS on
    /// another (same state, same journal): a login can use one and `run --proxy` the other.
    static func start(tls: FakeTLS? = nil) async throws -> FakeServer<Endpoints> {
        let endpoints = Endpoints()
        let http = try await FakeHTTPServer.start(endpoints: endpoints)
        var https: FakeHTTPServer?
        if let tls { https = try await http.secureTwin(endpoints: endpoints, tls: tls.context) }
        return FakeServer(http: http, https: https, endpoints: endpoints)
    }

    /// `https://127.0.0.1:PORT` of the HTTPS listener (started with `tls`).
    var secureBaseURL: String { https?.baseURL ?? "(started without tls)" }

    var port: Int { http.port }

    /// `http://127.0.0.1:PORT` (`https://` with TLS), without a trailing slash.
    var baseURL: String { http.baseURL }

    /// Stops listening and waits until every connection is closed.
    func stop() async throws {
        try await http.stop()
        try await https?.stop()
    }

    /// Stops without waiting, for `defer { server.stopNow() }` right after the start: the
    /// server goes away even when an expectation throws half-way through the test.
    func stopNow() {
        http.stopNow()
        https?.stopNow()
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

    /// Every request received, in order.
    var allRequests: [RecordedRequest] { http.allRequests }

    /// Requests whose path (without the query) is `path`; a `path` containing `?` is compared with the whole target.
    func requests(path: String) -> [RecordedRequest] {
        http.requests(path: path)
    }

    func requestCount(path: String) -> Int {
        requests(path: path).count
    }

    func lastRequest(path: String) -> RecordedRequest? {
        requests(path: path).last
    }

    /// Token endpoint requests with `grant_type` `refresh_token`, including rejected ones.
    func refreshRequestCount() -> Int {
        requests(path: Endpoints.tokenPath).filter { $0.grantType == "refresh_token" }.count
    }

    /// GETs `url` without following redirects, as a browser's first hop would, and returns the
    /// status and `Location`, so the test can deliver the redirect to the callback listener itself.
    func authorizeLikeABrowser(url: String) async throws -> (status: Int, location: String?) {
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
}
