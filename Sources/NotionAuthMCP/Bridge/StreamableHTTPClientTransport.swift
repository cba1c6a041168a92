import AsyncHTTPClient
import Foundation
import Logging
import MCP
import NIOCore
import NIOHTTP1
import NotionAuthCore

/// The client side of MCP's streamable-HTTP transport (specification 2025-06-18) over
/// AsyncHTTPClient, with a stored connection's bearer token on every request.
///
/// Each message is POSTed; the answer is JSON, an event stream of messages, or 202. A GET event
/// stream carries what the server sends unasked, and is re-established when it drops. A request
/// the server cannot be asked (a login is needed, the session ended) is answered here with a
/// JSON-RPC error, so the client never waits for an answer that will not come.
actor StreamableHTTPClientTransport: Transport {
    nonisolated let logger = Logger(label: "notionauth.bridge", factory: { _ in SwiftLogNoOpLogHandler() })

    private let endpoint: String
    private let http: HTTPClient
    private let credentials: BridgeCredentials
    private let log: @Sendable (String) -> Void
    private let incoming: AsyncThrowingStream<Data, Error>
    private let deliver: AsyncThrowingStream<Data, Error>.Continuation

    private var sessionID: String?
    private var protocolVersion: String?
    private var exchanges: [Int: Task<Void, Never>] = [:]
    private var nextExchange = 0
    private var listener: Task<Void, Never>?
    private var closed = false

    /// How long a POST may take to start answering (a tool answering in JSON answers when done).
    static let answerTimeout = TimeAmount.minutes(10)
    static let streamTimeout = TimeAmount.seconds(30)
    /// The longest wait between attempts to re-establish the GET stream.
    static let maximumReconnectDelay = 30.0

    init(endpoint: String, http: HTTPClient, credentials: BridgeCredentials, log: @escaping @Sendable (String) -> Void) {
        self.endpoint = endpoint
        self.http = http
        self.credentials = credentials
        self.log = log
        (incoming, deliver) = AsyncThrowingStream.makeStream()
    }

    func connect() async throws {}

    /// POSTs one message. A notification or response is sent before this returns (the server
    /// takes them in order: `initialized` must arrive before the next request); a request's
    /// answer is awaited in the background, so a long tool call holds up nothing else.
    func send(_ data: Data) async throws {
        let message = RelayedMessage(data)
        guard !closed else { return answer(message, .upstream("the bridge is shutting down")) }
        if message.requestID == nil {
            await exchange(message)
        } else {
            let id = nextExchange
            nextExchange += 1
            exchanges[id] = Task { await self.exchange(message); self.finished(id) }
        }
    }

    func receive() -> AsyncThrowingStream<Data, Error> { incoming }

    /// Waits for the answers still on their way, at most `seconds`.
    func drain(seconds: Double) async {
        let deadline = Date().addingTimeInterval(seconds)
        while !exchanges.isEmpty, Date() < deadline {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    /// Ends the session at the server (DELETE, as the specification asks of a client that leaves).
    func disconnect() async {
        guard !closed else { return }
        closed = true
        listener?.cancel()
        exchanges.values.forEach { $0.cancel() }
        if let sessionID, let token = await credentials.currentToken {
            var request = HTTPClientRequest(url: endpoint)
            request.method = .DELETE
            request.headers = headers(token: token)
            request.headers.replaceOrAdd(name: "Mcp-Session-Id", value: sessionID)
            if let response = try? await http.execute(request, timeout: .seconds(5)) {
                _ = try? await response.body.collect(upTo: 1 << 16)
            }
        }
        deliver.finish()
    }

    private func finished(_ id: Int) { exchanges[id] = nil }

    private func answer(_ message: RelayedMessage, _ error: BridgeError) {
        if let response = message.errorResponse(error) {
            deliver.yield(response)
        }
        log("\(message.method ?? "a message") was not relayed: \(error.message)")
    }

    private func headers(token: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Bearer \(token)")
        if let sessionID { headers.add(name: "Mcp-Session-Id", value: sessionID) }
        if let protocolVersion { headers.add(name: "MCP-Protocol-Version", value: protocolVersion) }
        return headers
    }

    /// One message out and its answer back, with one refresh and one resend after a 401.
    private func exchange(_ message: RelayedMessage) async {
        var token: String
        do { token = try await credentials.token() } catch { return answer(message, .loginNeeded(error)) }
        var refreshed = false
        while true {
            var request = HTTPClientRequest(url: endpoint)
            request.method = .POST
            request.headers = headers(token: token)
            request.headers.add(name: "Accept", value: "application/json, text/event-stream")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: message.bytes))
            let sentWithSession = sessionID != nil
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, timeout: Self.answerTimeout)
            } catch {
                return answer(message, .upstream("could not reach the MCP server at \(endpoint): \(error)"))
            }
            switch response.status.code {
            case 401:
                _ = try? await response.body.collect(upTo: 1 << 16)
                guard !refreshed else {
                    return answer(message, .loginNeeded(credentials.refusedAfterRefresh))
                }
                refreshed = true
                log("the MCP server refused the token (401); refreshing it and sending the message again")
                do { token = try await credentials.token(replacing: token) } catch { return answer(message, .loginNeeded(error)) }
                continue
            case 404 where sentWithSession:
                _ = try? await response.body.collect(upTo: 1 << 16)
                return answer(message, .sessionExpired)
            case 200..<300:
                if message.isInitialize, let id = response.headers.first(name: "Mcp-Session-Id"), !id.isEmpty {
                    sessionID = id
                }
                if message.method == "notifications/initialized" { startListening() }
                await relayBody(of: response, answering: message)
                return
            default:
                _ = try? await response.body.collect(upTo: 1 << 16)
                return answer(message, .upstream("the MCP server at \(endpoint) answered HTTP \(response.status.code)"))
            }
        }
    }

    /// Passes on what a 2xx answer carries: one JSON message, or every message of an event stream.
    private func relayBody(of response: HTTPClientResponse, answering message: RelayedMessage) async {
        let mediaType = response.headers.first(name: "Content-Type")?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        do {
            switch mediaType {
            case "text/event-stream":
                var parser = ServerSentEventParser()
                for try await chunk in response.body {
                    for event in parser.feed(chunk.readableBytesView) where event.type == "message" {
                        relay(event.data, answering: message)
                    }
                }
            case "application/json":
                let body = try await response.body.collect(upTo: 64 << 20)
                relay(Array(body.readableBytesView), answering: message)
            default:
                _ = try await response.body.collect(upTo: 1 << 16)
                if message.requestID != nil {
                    answer(message, .upstream("the MCP server at \(endpoint) answered with \(mediaType ?? "no content type") instead of MCP"))
                }
            }
        } catch {
            answer(message, .upstream("the MCP server's answer was cut off: \(error)"))
        }
    }

    private func relay(_ bytes: [UInt8], answering message: RelayedMessage) {
        guard !bytes.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }) else { return }
        if message.isInitialize, protocolVersion == nil,
           let version = (try? JSONValue.parse(bytes))?["result"]?["protocolVersion"]?.stringValue {
            protocolVersion = version
        }
        deliver.yield(Data(bytes))
    }

    private func startListening() {
        guard listener == nil, !closed else { return }
        listener = Task { await self.listen() }
    }

    /// The GET stream for messages the server sends unasked, re-established when it drops
    /// (resuming after the last event id, when events had ids).
    private func listen() async {
        var lastEventID: String?
        var delay = 0.5
        var refusedInARow = 0
        var token = ""
        while !closed, !Task.isCancelled {
            do {
                token = refusedInARow == 0 ? try await credentials.token() : try await credentials.token(replacing: token)
            } catch {
                log("the stream of server messages stopped: \(error.description)")
                return
            }
            var request = HTTPClientRequest(url: endpoint)
            request.method = .GET
            request.headers = headers(token: token)
            request.headers.add(name: "Accept", value: "text/event-stream")
            if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
            var parser = ServerSentEventParser()
            var received = false
            do {
                let response = try await http.execute(request, timeout: Self.streamTimeout)
                switch response.status.code {
                case 200:
                    refusedInARow = 0
                    for try await chunk in response.body {
                        for event in parser.feed(chunk.readableBytesView) {
                            received = true
                            if event.type == "message" { deliver.yield(Data(event.data)) }
                        }
                    }
                    lastEventID = parser.lastEventID ?? lastEventID
                case 401 where refusedInARow == 0:
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    refusedInARow += 1
                    continue
                case 405:
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    log("the MCP server offers no stream of server messages (GET answered 405)")
                    return
                case 404 where sessionID != nil:
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    log("the MCP server ended the session; the stream of server messages stopped")
                    return
                default:
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    log("the stream of server messages was refused (HTTP \(response.status.code)); trying again")
                }
            } catch {
                lastEventID = parser.lastEventID ?? lastEventID
                guard !closed, !Task.isCancelled else { return }
            }
            guard !closed, !Task.isCancelled else { return }
            log("the stream of server messages dropped; re-establishing it")
            delay = received ? 0.5 : min(delay * 2, Self.maximumReconnectDelay)
            let wait = parser.retry.map { Double($0) / 1000 } ?? delay
            try? await Task.sleep(nanoseconds: UInt64(wait * 1e9))
        }
    }
}
