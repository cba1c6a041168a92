import NIOConcurrencyHelpers
import NotionAuthCore
import Dispatch
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// What came back to the login, for the flow to act on: what the browser brought to the
/// listener, each with a `respond` that writes the page the browser is still waiting for,
/// and what was pasted into the terminal.
public enum CallbackEvent {
    /// The provider redirected back with a code and the expected state.
    case code(String, respond: @Sendable (CallbackReply) -> Void)
    /// The provider redirected back with an error (`access_denied`, …) and the expected state.
    case providerError(code: String, description: String?, respond: @Sendable (CallbackReply) -> Void)
    /// The person submitted client credentials on the first-run page.
    case clientCredentials(id: String, secret: String, respond: @Sendable (CallbackReply) -> Void)
    /// A line pasted into the terminal, checked as the listener checks a callback; nil for a
    /// blank line.
    case pasted(CallbackAnswer?)
    /// The terminal reached end of input (Ctrl-D, a hang-up): nothing more will be pasted.
    case pasteEnded
}

/// Where what comes back to a login waits for the flow, in the order it came: the listener's
/// requests and the terminal's lines, so that the flow waits on both at once.
public final class CallbackInbox: @unchecked Sendable {
    // @unchecked: `events` is guarded by `lock`.
    private let lock = NIOLock()
    private var events: [CallbackEvent] = []
    private let signal = DispatchSemaphore(value: 0)

    public init() {}

    /// Waits up to `seconds` for the next event; nil on timeout.
    public func next(timeoutSeconds: Double) -> CallbackEvent? {
        guard signal.wait(timeout: .now() + timeoutSeconds) == .success else { return nil }
        return lock.withLock { events.removeFirst() }
    }

    func deliver(_ event: CallbackEvent) {
        lock.withLock { events.append(event) }
        signal.signal()
    }
}

public enum CallbackReply: Sendable {
    case page(status: Int, html: String)
    case redirect(String)
}

/// The loopback HTTP server of a browser login. It is bound to an IP literal, answers 404
/// to stray paths and 400 to callbacks without the right `state` or to a `Host` that is not
/// its own while it keeps waiting, and hands the flow only what belongs to this login.
public final class CallbackListener: @unchecked Sendable {
    // @unchecked: `formToken` and `formOpen` are guarded by `lock`.
    public let callbackPath: String
    let firstRunPage: ((_ csrfToken: String) -> String)?
    let origin: String
    /// The redirect URI on the port actually bound, and this login's state.
    let check: CallbackCheck
    private let inbox: CallbackInbox
    private let channel: Channel
    private let lock = NIOLock()
    private var formToken: String
    /// The first-run form is served until credentials come in through it, then never again.
    private var formOpen: Bool

    /// Largest request body accepted (the first-run form is a few hundred bytes).
    static let maxBodyBytes = 16 * 1024

    /// Binds `host:port`; a port in use fails at once. Events go to `inbox`.
    public init(host: String, port: Int, callbackPath: String, state: String, firstRunPage: ((_ csrfToken: String) -> String)?, inbox: CallbackInbox = CallbackInbox()) throws(NotionauthError) {
        self.callbackPath = callbackPath
        self.inbox = inbox
        self.formToken = Self.newFormToken()
        self.firstRunPage = firstRunPage
        self.formOpen = firstRunPage != nil
        let box = HandlerContextBox()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandlers([
                        IdleStateHandler(readTimeout: .seconds(10)),
                        // Whole requests, bodies capped: larger ones get NIO's 413 and a close.
                        NIOHTTPServerRequestAggregator(maxContentLength: CallbackListener.maxBodyBytes),
                        CallbackHTTPHandler(listener: box),
                    ])
                }
            }
        let bound: Channel
        do {
            bound = try bootstrap.bind(host: host, port: port).wait()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw .failure("port \(port) on \(host) is in use (another login waiting?); free it, or use --port N with a redirect URI registered for that port")
        } catch {
            throw .failure("cannot listen on \(host):\(port): \(error)")
        }
        channel = bound
        let boundPort = bound.localAddress?.port ?? port
        let literal = host.contains(":") ? "[\(host)]" : host
        self.origin = "http://\(literal):\(boundPort)"
        // A page on any other name that resolves here (DNS rebinding) is not us.
        self.check = CallbackCheck(host: host, port: boundPort, path: callbackPath, state: state)
        box.listener = self
    }

    /// `Host` values that name this listener (lowercased).
    var authorities: Set<String> { check.authorities }

    /// The port actually bound (differs from the request only when it was 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    /// The first-run form's CSRF token now; each one is good for one submission.
    var csrfToken: String { lock.withLock { formToken } }

    private static func newFormToken() -> String { Base64URL.encode(Sodium.randomBytes(32)) }

    /// Waits up to `seconds` for the next event in its inbox; nil on timeout.
    public func next(timeoutSeconds: Double) -> CallbackEvent? {
        inbox.next(timeoutSeconds: timeoutSeconds)
    }

    public func close() {
        try? channel.close().wait()
    }

    deinit { try? channel.close().wait() }

    func deliver(_ event: CallbackEvent) {
        inbox.deliver(event)
    }

    /// Routes one complete request; returns nil when the flow will answer through an event.
    func route(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: [UInt8], respond: @escaping @Sendable (CallbackReply) -> Void) -> CallbackReply? {
        let components = URLComponents(string: uri)
        let path = components?.percentEncodedPath ?? ""
        // The same decoding as the form ('+' is a space): URLComponents' queryItems keeps '+'.
        let query = URLEncoding.formFields(Array((components?.percentEncodedQuery ?? "").utf8))

        if path == callbackPath {
            guard method == .GET else { return .page(status: 405, html: Pages.message(title: "Method not allowed", text: "The callback takes GET requests only.")) }
            guard namesThisListener(headers) else { return Self.misdirected }
            switch check.answer(query: query) {
            case let .code(code):
                deliver(.code(code, respond: respond))
                return nil
            case let .providerError(code, description):
                deliver(.providerError(code: code, description: description, respond: respond))
                return nil
            case .wrongState:
                return .page(status: 400, html: Pages.message(title: "This link does not belong to the login in progress", text: "The state parameter is missing or wrong. Start again from the terminal if you need to."))
            case .noCode, .notTheRedirectURI:
                return .page(status: 400, html: Pages.message(title: "No authorization code", text: "The provider sent no code. Return to the terminal."))
            }
        }
        if path == "/", let firstRunPage {
            guard namesThisListener(headers) else { return Self.misdirected }
            switch method {
            case .GET:
                guard let token = lock.withLock({ formOpen ? formToken : nil }) else { return Self.formClosed }
                return .page(status: 200, html: firstRunPage(token))
            case .POST:
                // A cross-site form cannot know the token, and browsers send Origin on POST.
                if let requestOrigin = headers.first(name: "origin"), requestOrigin != origin {
                    return .page(status: 403, html: Pages.message(title: "Refused", text: "This form only accepts submissions from its own page."))
                }
                let form = URLEncoding.formFields(body)
                let id = (form["client_id"] ?? "").trimmingWhitespace()
                let secret = (form["client_secret"] ?? "").trimmingWhitespace()
                // Checked and spent in one step: of two posts with one token, one wins. Once
                // credentials are in, the form is closed: another local process must not
                // swap in its own client and read this login's `state` from the redirect.
                enum Outcome { case closed, refused, incomplete, accepted }
                let outcome = lock.withLock { () -> Outcome in
                    guard formOpen else { return .closed }
                    guard let token = form["csrf_token"], constantTimeEqual(token, formToken) else { return .refused }
                    formToken = Self.newFormToken()
                    guard !id.isEmpty, !secret.isEmpty else { return .incomplete }
                    formOpen = false
                    return .accepted
                }
                switch outcome {
                case .closed:
                    return Self.formClosed
                case .refused:
                    return .page(status: 403, html: Pages.message(title: "Refused", text: "The form token is missing, wrong or already used. Reload the page and try again."))
                case .incomplete:
                    return .page(status: 400, html: Pages.message(title: "Both fields are needed", text: "Reload the page and enter the client ID and the client secret."))
                case .accepted:
                    deliver(.clientCredentials(id: id, secret: secret, respond: respond))
                    return nil
                }
            default:
                return .page(status: 405, html: Pages.message(title: "Method not allowed", text: "Use the form."))
            }
        }
        return .page(status: 404, html: Pages.message(title: "Not found", text: "Nothing here. The login is still waiting in the terminal."))
    }

    static let misdirected = CallbackReply.page(status: 400, html: Pages.message(title: "Wrong address", text: "This page answers only at the address the terminal printed."))

    static let formClosed = CallbackReply.page(status: 410, html: Pages.message(title: "Already entered", text: "The client ID and secret for this login were already entered. Continue in the browser tab that took them, or start again from the terminal."))

    /// Whether the request's one `Host` header names this listener. Checked before anything
    /// is served or acted on; a 404 or 405 gives nothing away, whatever the Host.
    func namesThisListener(_ headers: HTTPHeaders) -> Bool {
        let hosts = headers["host"]
        return hosts.count == 1 && check.names(authority: hosts[0])
    }
}

/// Lets child channels find the listener, which is created after the bootstrap.
final class HandlerContextBox: @unchecked Sendable {
    // @unchecked: set once, before the first connection can be accepted is served.
    weak var listener: CallbackListener?
}

final class CallbackHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: used only on its channel's event loop.
    typealias InboundIn = NIOHTTPServerRequestFull
    typealias OutboundOut = HTTPServerResponsePart

    private let box: HandlerContextBox

    init(listener: HandlerContextBox) { self.box = listener }

    /// A browser sends its request at once; a client still sending after this long is cut
    /// off, so a trickle of bytes (which resets an idle timer) cannot hold a connection.
    static let requestDeadline = TimeAmount.seconds(10)
    private var answered = false

    func channelActive(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: Self.requestDeadline) { [self] in
            if !answered { loopBound.value.close(promise: nil) }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let request = unwrapInboundIn(data)
        let head = request.head
        let body = request.body.map { Array(buffer: $0) } ?? []
        answered = true
        guard let listener = box.listener else {
            write(.page(status: 503, html: Pages.message(title: "Not ready", text: "Try again.")), context: context)
            return
        }
        let loop = context.eventLoop
        let boundContext = NIOLoopBound(context, eventLoop: loop)
        // Called by the login flow on its own thread; it returns once the page is sent,
        // so the process cannot exit before the browser has its answer.
        let respond: @Sendable (CallbackReply) -> Void = { [self] reply in
            let sent = loop.makePromise(of: Void.self)
            loop.execute { self.write(reply, context: boundContext.value, sent: sent) }
            try? sent.futureResult.wait()
        }
        if let reply = listener.route(method: head.method, uri: head.uri, headers: head.headers, body: body, respond: respond) {
            write(reply, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A client that sends nothing for a while loses its connection, not the login.
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) }
        else { context.fireUserInboundEventTriggered(event) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func write(_ reply: CallbackReply, context: ChannelHandlerContext, sent: EventLoopPromise<Void>? = nil) {
        var headers = HTTPHeaders()
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Cache-Control", value: "no-store")
        // Not "no-referrer": with it browsers send `Origin: null` on the form's POST, which
        // the cross-site check must refuse. Nothing leaves the origin with "same-origin".
        headers.add(name: "Referrer-Policy", value: "same-origin")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        let status: HTTPResponseStatus
        var payload = ""
        switch reply {
        case let .page(code, html):
            status = HTTPResponseStatus(statusCode: code)
            payload = html
            headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
            headers.add(name: "Content-Security-Policy", value: "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'")
            headers.add(name: "X-Frame-Options", value: "DENY")
        case let .redirect(location):
            status = .seeOther
            headers.add(name: "Location", value: location)
        }
        let bytes = Array(payload.utf8)
        headers.add(name: "Content-Length", value: String(bytes.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if !bytes.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            channel.close(promise: nil)
            sent?.succeed()
        }
    }
}

/// base64url without padding (RFC 4648 §5), for state, PKCE and CSRF tokens.
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { Sodium.base64Encode($0, urlSafe: true) }
    }
}
