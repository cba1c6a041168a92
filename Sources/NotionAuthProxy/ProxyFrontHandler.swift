import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NotionAuthCore

/// The first request on a connection to the proxy: the credential checked (407 without it),
/// then a CONNECT to a granted API host intercepted, a CONNECT elsewhere tunnelled, or a
/// plain `http://` request sent on without any token.
final class ProxyFrontHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case connect(host: String, port: Int)
        case plain(HTTPRequestHead, body: [UInt8])
        /// Answered, or handing the connection over: anything more is ignored.
        case done
    }

    /// The largest request body the proxy holds in memory (Notion takes at most 20 MB files).
    static let maxBodyBytes = 64 << 20

    private let shared: ProxyShared
    private let decoder: ByteToMessageHandler<HTTPRequestDecoder>
    private let encoder: HTTPResponseEncoder
    private var state = State.idle

    init(shared: ProxyShared, decoder: ByteToMessageHandler<HTTPRequestDecoder>, encoder: HTTPResponseEncoder) {
        self.shared = shared
        self.decoder = decoder
        self.encoder = encoder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case let (.head(head), .idle):
            guard shared.authorizes(head.headers.first(name: "Proxy-Authorization")) else {
                // Without the run's credential no other local process can borrow the proxy.
                return answer(context: context, ProxyHeaders.errorResponse(
                    status: 407, code: "proxy_authentication_required",
                    message: "notionauth proxy: this proxy serves one `notionauth run`; use the proxy URL in its environment",
                    headers: [("Proxy-Authenticate", "Basic realm=\"notionauth\"")]))
            }
            if head.method == .CONNECT {
                guard let (host, port) = ProxyOrigin.split(authority: head.uri, defaultPort: nil) else {
                    return answer(context: context, ProxyHeaders.errorResponse(status: 400, code: "invalid_request", message: "notionauth proxy: CONNECT needs host:port"))
                }
                state = .connect(host: host, port: port)
            } else if head.uri.lowercased().hasPrefix("http://") {
                state = .plain(head, body: [])
            } else {
                answer(context: context, ProxyHeaders.errorResponse(
                    status: 400, code: "invalid_request", message: "notionauth proxy: send https:// through CONNECT and http:// as an absolute URL"))
            }
        case (.body(var buffer), .plain(let head, var body)):
            guard body.count + buffer.readableBytes <= Self.maxBodyBytes else {
                return answer(context: context, ProxyHeaders.errorResponse(status: 413, code: "payload_too_large", message: "notionauth proxy: the request body is too large"))
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
            state = .plain(head, body: body)
        case let (.end, .connect(host, port)):
            state = .done
            if let route = shared.route(host: host, port: port) {
                intercept(context: context, route: route, host: host)
            } else {
                tunnel(context: context, host: host, port: port)
            }
        case let (.end, .plain(head, body)):
            state = .done
            forwardPlain(context: context, head: head, body: body)
        default:
            break
        }
    }

    /// Answers and closes: the connection is not reused after a refusal.
    private func answer(context: ChannelHandlerContext, _ response: HTTPResponse) {
        state = .done
        ProxyResponse.write(response, keepAlive: false, context: context, wrap: wrapOutboundOut)
    }

    private func established(context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        var headers = HTTPHeaders()
        // No body follows (the client ignores this on a 2xx to CONNECT, and the encoder then adds no chunking).
        headers.add(name: "Content-Length", value: "0")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        return context.writeAndFlush(wrapOutboundOut(.end(nil)))
    }

    /// Replaces the HTTP handlers (and this one) by `handlers`. This handler goes first and the
    /// decoder last, so that bytes the client sent after its CONNECT reach the new handlers.
    private func handOver(context: ChannelHandlerContext, to handlers: [any ChannelHandler]) throws {
        let pipeline = context.pipeline.syncOperations
        try pipeline.addHandlers(handlers, position: .after(self))
        pipeline.removeHandler(context: context, promise: nil)
        pipeline.removeHandler(encoder, promise: nil)
        pipeline.removeHandler(decoder, promise: nil)
    }

    /// The child's TLS ends here, with the run CA's certificate for the host; its requests are
    /// sent on by the grant's forwarder.
    private func intercept(context: ChannelHandlerContext, route: ProxyRoute, host: String) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        established(context: context).whenComplete { result in
            let (handler, context) = loopBound.value
            guard case .success = result else { return context.close(promise: nil) }
            do {
                let decoder = ByteToMessageHandler(HTTPRequestDecoder())
                let encoder = HTTPResponseEncoder()
                try handler.handOver(context: context, to: [
                    NIOSSLServerHandler(context: route.tls), decoder, encoder, HTTPServerPipelineHandler(),
                    HTTPServerProtocolErrorHandler(),
                    InterceptedRequestHandler(forwarder: route.forwarder, threadPool: handler.shared.threadPool),
                ])
            } catch {
                context.close(promise: nil)
            }
        }
    }

    /// Any other host: connected to as asked, and the bytes copied both ways unread.
    private func tunnel(context: ChannelHandlerContext, host: String, port: Int) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let shared = shared
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port)
            .whenComplete { result in
                let (handler, context) = loopBound.value
                switch result {
                case let .failure(error):
                    handler.state = .idle
                    handler.answer(context: context, ProxyHeaders.errorResponse(
                        status: 502, code: "bad_gateway", message: "notionauth proxy: cannot reach \(TerminalText.sanitize(host)):\(port): \(error)"))
                case let .success(upstream):
                    shared.track(upstream)
                    let upstreamBound = NIOLoopBound(upstream, eventLoop: context.eventLoop)
                    handler.established(context: context).whenComplete { written in
                        let (handler, context) = loopBound.value
                        let upstream = upstreamBound.value
                        guard case .success = written else {
                            upstream.close(promise: nil)
                            return context.close(promise: nil)
                        }
                        let (local, remote) = TunnelGlue.pair()
                        do {
                            try upstream.pipeline.syncOperations.addHandler(remote)
                            try handler.handOver(context: context, to: [local])
                        } catch {
                            upstream.close(promise: nil)
                            context.close(promise: nil)
                        }
                    }
                }
            }
    }

    /// A plain-HTTP request for any host, sent on as it came (no token is ever added to it).
    private func forwardPlain(context: ChannelHandlerContext, head: HTTPRequestHead, body: [UInt8]) {
        let request = HTTPRequest(
            method: head.method.rawValue, url: head.uri,
            headers: ProxyHeaders.forChild(head.headers.map { ($0.name, $0.value) }),
            body: body.isEmpty && head.headers.first(name: "Content-Length") == nil ? nil : body)
        let http = shared.http
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        shared.threadPool.runIfActive(eventLoop: context.eventLoop) { () -> HTTPResponse in
            do throws(NotionauthError) {
                return try http.send(request, timeoutSeconds: GrantForwarder.timeoutSeconds)
            } catch {
                return ProxyHeaders.errorResponse(status: 502, code: "bad_gateway", message: "notionauth proxy: \(error.description)")
            }
        }.whenComplete { result in
            let (handler, context) = loopBound.value
            let response = (try? result.get()) ?? ProxyHeaders.errorResponse(status: 502, code: "bad_gateway", message: "notionauth proxy: stopped")
            ProxyResponse.write(ProxyHeaders.forChildResponse(response), keepAlive: false, context: context, wrap: handler.wrapOutboundOut)
        }
    }
}

/// Requests inside an intercepted TLS connection, one at a time (HTTPServerPipelineHandler
/// orders pipelined ones), each sent on from a thread of the pool: a forward may wait for a
/// refresh under the store's lock, which must not hold up the event loop.
final class InterceptedRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let forwarder: GrantForwarder
    private let threadPool: NIOThreadPool
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var refused = false

    init(forwarder: GrantForwarder, threadPool: NIOThreadPool) {
        self.forwarder = forwarder
        self.threadPool = threadPool
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            self.head = head
            body = []
            refused = false
        case var .body(buffer):
            guard !refused else { return }
            guard body.count + buffer.readableBytes <= ProxyFrontHandler.maxBodyBytes else {
                refused = true
                body = []
                return ProxyResponse.write(
                    ProxyHeaders.errorResponse(status: 413, code: "payload_too_large", message: "notionauth proxy: the request body is too large"),
                    keepAlive: false, context: context, wrap: wrapOutboundOut)
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head, !refused else { return }
            self.head = nil
            forward(context: context, head: head, body: body)
        }
    }

    private func forward(context: ChannelHandlerContext, head: HTTPRequestHead, body: [UInt8]) {
        // Origin-form is what clients send inside a tunnel; an absolute URL is taken for its path.
        var path = head.uri
        if !path.hasPrefix("/"), let schemeEnd = path.range(of: "://") {
            let rest = path[schemeEnd.upperBound...]
            path = rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? "/"
        }
        let target = path
        guard target.hasPrefix("/") else {
            return ProxyResponse.write(
                ProxyHeaders.errorResponse(status: 400, code: "invalid_request", message: "notionauth proxy: the request target is not a path"),
                keepAlive: false, context: context, wrap: wrapOutboundOut)
        }
        let forwarder = forwarder
        let method = head.method.rawValue
        let headers = head.headers.map { ($0.name, $0.value) }
        let sentBody = body.isEmpty && head.headers.first(name: "Content-Length") == nil && head.headers.first(name: "Transfer-Encoding") == nil ? nil : body
        let keepAlive = head.isKeepAlive
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        threadPool.runIfActive(eventLoop: context.eventLoop) {
            forwarder.forward(method: method, target: target, headers: headers, body: sentBody)
        }.whenComplete { result in
            let (handler, context) = loopBound.value
            let response = (try? result.get()) ?? ProxyHeaders.errorResponse(status: 502, code: "bad_gateway", message: "notionauth proxy: stopped")
            ProxyResponse.write(ProxyHeaders.forChildResponse(response), keepAlive: keepAlive, context: context, wrap: handler.wrapOutboundOut)
        }
    }
}

/// Writes a whole response with its length, closing afterwards unless kept alive.
enum ProxyResponse {
    static func write(
        _ response: HTTPResponse, keepAlive: Bool, context: ChannelHandlerContext,
        wrap: (HTTPServerResponsePart) -> NIOAny
    ) {
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(wrap(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if !response.body.isEmpty {
            context.write(wrap(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrap(.end(nil)))
        if !keepAlive {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            done.whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }
}

extension ProxyHeaders {
    /// An upstream response made ready for the child: hop-by-hop headers dropped.
    static func forChildResponse(_ response: HTTPResponse) -> HTTPResponse {
        HTTPResponse(status: response.status, headers: forChild(response.headers), body: response.body)
    }
}
