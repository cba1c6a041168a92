import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 server on 127.0.0.1 that records every request, answers injected failures
/// first, and hands everything else to its endpoints. Each response closes its connection.
final class FakeHTTPServer: Sendable {
    let port: Int
    private let serverChannel: any Channel
    private let journal: RequestJournal
    private let connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>

    var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(serverChannel: any Channel, journal: RequestJournal, connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>) throws {
        guard let port = serverChannel.localAddress?.port else {
            throw ChannelError.unknownLocalAddress
        }
        self.port = port
        self.serverChannel = serverChannel
        self.journal = journal
        self.connections = connections
    }

    static func start(endpoints: any FakeEndpoints) async throws -> FakeHTTPServer {
        let journal = RequestJournal()
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
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        FakeHTTPHandler(endpoints: endpoints, journal: journal))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return try FakeHTTPServer(serverChannel: channel, journal: journal, connections: connections)
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

    func requests(path: String) -> [RecordedRequest] {
        journal.requests.filter { path.contains("?") ? $0.uri == path : $0.path == path }
    }

    deinit {
        // A test that forgot stop() should not leave a listening socket behind.
        serverChannel.close(promise: nil)
    }
}
