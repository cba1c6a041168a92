import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A real HTTP/1.1 server on 127.0.0.1 that records every request, answers injected failures
/// first, and hands everything else to its endpoints. Each response closes its connection
/// (over HTTPS, unless the client keeps it alive).
final class FakeHTTPServer: Sendable {
    let port: Int
    private let serverChannel: any Channel
    private let journal: RequestJournal
    private let connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>

    /// Whether it speaks HTTPS (`start(endpoints:tls:)`).
    let secure: Bool

    var baseURL: String { "\(secure ? "https" : "http")://127.0.0.1:\(port)" }

    private init(serverChannel: any Channel, journal: RequestJournal, connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>, secure: Bool) throws {
        guard let port = serverChannel.localAddress?.port else {
            throw ChannelError.unknownLocalAddress
        }
        self.port = port
        self.serverChannel = serverChannel
        self.journal = journal
        self.connections = connections
        self.secure = secure
    }

    /// With `tls`, it serves HTTPS with that context's certificate.
    /// Listeners that share a `journal` also share what they record and the failures injected.
    static func start(endpoints: any FakeEndpoints, tls: NIOSSLContext? = nil, journal: RequestJournal = RequestJournal()) async throws -> FakeHTTPServer {
        let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                // Tracked so stop() can end connections a client left open.
                let id = ObjectIdentifier(channel)
                connections.withLockedValue { $0[id] = channel }
                channel.closeFuture.whenComplete { _ in
                    _ = connections.withLockedValue { $0.removeValue(forKey: id) }
                }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        FakeHTTPHandler(endpoints: endpoints, journal: journal, keepsAlive: tls != nil))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return try FakeHTTPServer(serverChannel: channel, journal: journal, connections: connections, secure: tls != nil)
    }

    func stop() async throws {
        try await serverChannel.close()
        for channel in connections.withLockedValue({ Array($0.values) }) {
            try? await channel.close()
        }
    }

    /// Starts closing the listener and every open connection without waiting, so that a
    /// `defer` can call it: a test that fails half-way still frees its server.
    func stopNow() {
        serverChannel.close(promise: nil)
        for channel in connections.withLockedValue({ Array($0.values) }) {
            channel.close(promise: nil)
        }
    }

    func failNext(path: String, response: FakeResponse) {
        journal.inject(response, path: path)
    }

    func dropNextAnswer(path: String) {
        journal.dropNext(path: path)
    }

    var allRequests: [RecordedRequest] { journal.requests }

    /// Another listener on the same endpoints and journal, with TLS.
    func secureTwin(endpoints: any FakeEndpoints, tls: NIOSSLContext) async throws -> FakeHTTPServer {
        try await Self.start(endpoints: endpoints, tls: tls, journal: journal)
    }

    func requests(path: String) -> [RecordedRequest] {
        journal.requests.filter { path.contains("?") ? $0.uri == path : $0.path == path }
    }

    deinit {
        // A test that forgot stop() should not leave a listening socket behind.
        serverChannel.close(promise: nil)
    }
}
