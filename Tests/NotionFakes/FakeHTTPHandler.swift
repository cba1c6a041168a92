import NIOCore
import NIOHTTP1

final class FakeHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let endpoints: any FakeEndpoints
    private let journal: RequestJournal
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    /// Whether a connection the client keeps alive stays open (the HTTPS listener, so that
    /// scripts/bench times requests rather than handshakes); otherwise each answer closes it.
    private let keepsAlive: Bool
    private var clientKeepsAlive = false

    init(endpoints: any FakeEndpoints, journal: RequestJournal, keepsAlive: Bool = false) {
        self.endpoints = endpoints
        self.journal = journal
        self.keepsAlive = keepsAlive
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head else { return }
            self.head = nil
            clientKeepsAlive = head.isKeepAlive
            var headers: [String: String] = [:]
            for (name, value) in head.headers {
                let key = name.lowercased()
                headers[key] = headers[key].map { $0 + ", " + value } ?? value
            }
            let request = RecordedRequest(method: head.method.rawValue, uri: head.uri, headers: headers, body: body)
            body = []
            if let injected = journal.record(request) {
                write(injected, context: context)
                return
            }
            let port = context.channel.localAddress?.port ?? 0
            let baseURL = "http://127.0.0.1:\(port)"
            let delay = endpoints.delay(for: request)
            if delay > .zero {
                context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                    self.answer(request, baseURL: baseURL, context: context)
                }
            } else {
                answer(request, baseURL: baseURL, context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Handles the request; the answer is written unless the journal says to drop it.
    private func answer(_ request: RecordedRequest, baseURL: String, context: ChannelHandlerContext) {
        let response = endpoints.respond(to: request, baseURL: baseURL)
        if journal.takeDrop(path: request.path) {
            context.close(promise: nil)
        } else {
            write(response, context: context)
        }
    }

    private func write(_ response: FakeResponse, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        let close = !(keepsAlive && clientKeepsAlive)
        if close { headers.replaceOrAdd(name: "Connection", value: "close") }
        let head = HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if close { channel.close(promise: nil) }
        }
    }
}
