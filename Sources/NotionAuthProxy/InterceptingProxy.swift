import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NotionAuthCore
#if canImport(Glibc)
import Glibc
#endif

/// `run --proxy`: an HTTP proxy on 127.0.0.1 for one run. Requests for a granted provider's
/// API host are decrypted with a certificate from the run's own CA and sent on with the
/// connection's token; every other host is tunnelled byte for byte and never decrypted.
public enum InterceptingProxy {
    public static let start: RunProxy.Starter = { (grants, broker) throws(NotionauthError) -> any RunProxy.Running in
        try RunningProxy(grants: grants, broker: broker)
    }
}

/// What every connection to the proxy shares.
struct ProxyShared: Sendable {
    /// `Basic base64(notionauth:CREDENTIAL)`: what a request must carry in Proxy-Authorization.
    let expectedAuthorization: [UInt8]
    let routes: [ProxyRoute]
    let threadPool: NIOThreadPool
    let http: any HTTPTransport
    let channels: NIOLockedValueBox<[ObjectIdentifier: any Channel]>

    func route(host: String, port: Int) -> ProxyRoute? {
        routes.first { $0.forwarder.origin.host == host && $0.forwarder.origin.port == port }
    }

    /// Whether `value` is the run's credential; compared in constant time.
    func authorizes(_ value: String?) -> Bool {
        guard let value else { return false }
        let given = Array(value.utf8)
        // The scheme's name is case-insensitive (RFC 9110 §11.1).
        guard given.count == expectedAuthorization.count, given.prefix(6).map({ $0 | 0x20 }) == Array("basic ".utf8) else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(given.dropFirst(6), expectedAuthorization.dropFirst(6)) { difference |= a ^ b }
        return difference == 0
    }

    func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [channels] _ in _ = channels.withLockedValue { $0.removeValue(forKey: id) } }
    }
}

/// A granted API host: its forwarder and the TLS the proxy answers it with.
struct ProxyRoute: Sendable {
    let forwarder: GrantForwarder
    let tls: NIOSSLContext
}

final class RunningProxy: RunProxy.Running {
    let childEnvironment: [String: String]
    let secrets: [String]
    private let group: MultiThreadedEventLoopGroup
    private let serverChannel: any Channel
    private let shared: ProxyShared
    private let bundle: RunCABundle

    /// Requests forwarded at once; more wait for a thread (each one waits on its upstream).
    static let forwardingThreads = 16
    static let user = "notionauth"

    init(grants: [RunProxy.Grant], broker: Broker) throws(NotionauthError) {
        var origins: [(RunProxy.Grant, ProxyOrigin)] = []
        for grant in grants {
            guard let origin = ProxyOrigin(url: grant.provider.api.baseURL), origin.scheme == "https" else {
                throw .failure("run --proxy cannot serve \(grant.provider.name): its API (\(TerminalText.sanitize(grant.provider.api.baseURL))) is not an https:// URL")
            }
            if let earlier = origins.first(where: { $0.1 == origin }) {
                broker.warn("\(grant.provider.name) and \(earlier.0.provider.name) share \(origin.host); requests there get \(earlier.0.provider.name)'s token")
                continue
            }
            origins.append((grant, origin))
        }
        guard !origins.isEmpty else {
            throw .failure("run --proxy has no connection to serve")
        }
        let authority = try RunCertificateAuthority()
        var routes: [ProxyRoute] = []
        for (grant, origin) in origins {
            let (certificate, key) = try authority.issue(forHost: origin.host)
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
            // HTTP/1.1 only: the proxy's side speaks no HTTP/2.
            configuration.applicationProtocols = ["http/1.1"]
            let context: NIOSSLContext
            do {
                context = try NIOSSLContext(configuration: configuration)
            } catch {
                throw .failure("cannot set up TLS for \(origin.host): \(error)")
            }
            routes.append(ProxyRoute(forwarder: GrantForwarder(grant: grant, origin: origin, broker: broker), tls: context))
        }

        // URL-safe base64: it goes into the proxy URL's user info as it is.
        let credential = Sodium.randomBytes(24).withUnsafeBytes { Sodium.base64Encode($0, urlSafe: true) }
        let basic = Array("\(Self.user):\(credential)".utf8).withUnsafeBytes { Sodium.base64Encode($0) }
        // The proxy's threads never take the signals `run` passes on to the child: those must
        // reach the main thread, which forwards them (a thread inherits its creator's mask).
        var forwarded = sigset_t(), previous = sigset_t()
        sigemptyset(&forwarded)
        for signal in [SIGINT, SIGTERM] + Interrupts.forwardedByRun { sigaddset(&forwarded, signal) }
        pthread_sigmask(SIG_BLOCK, &forwarded, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let threadPool = NIOThreadPool(numberOfThreads: Self.forwardingThreads)
        threadPool.start()
        let shared = ProxyShared(
            expectedAuthorization: Array("Basic \(basic)".utf8), routes: routes, threadPool: threadPool,
            http: broker.context.http, channels: NIOLockedValueBox([:]))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            serverChannel = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .childChannelInitializer { channel in
                    shared.track(channel)
                    return channel.eventLoop.makeCompletedFuture {
                        let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
                        let encoder = HTTPResponseEncoder()
                        try channel.pipeline.syncOperations.addHandlers(
                            decoder, encoder, ProxyFrontHandler(shared: shared, decoder: decoder, encoder: encoder))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw .failure("cannot start the proxy on 127.0.0.1: \(error)")
        }
        guard let port = serverChannel.localAddress?.port else {
            throw .failure("cannot start the proxy on 127.0.0.1: it has no port")
        }
        do {
            bundle = try RunCABundle(runCA: authority.certificatePEM, environment: broker.context.environment, warn: broker.warn)
        } catch {
            serverChannel.close(promise: nil)
            throw error
        }
        self.group = group
        self.shared = shared
        let url = "http://\(Self.user):\(credential)@127.0.0.1:\(port)"
        var environment = bundle.environment
        for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] { environment[name] = url }
        childEnvironment = environment
        secrets = [credential]
    }

    func stop() {
        try? serverChannel.close().wait()
        for channel in shared.channels.withLockedValue({ Array($0.values) }) { try? channel.close().wait() }
        bundle.remove()
    }
}
