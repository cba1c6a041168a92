import Foundation
import Logging
import MCP
import NIOConcurrencyHelpers
import NotionAuthCore

/// The MCP server whose tools call Notion's API with a stored connection's token. The agent
/// names a tool and its arguments; the token is read from the store for each call, refreshed
/// as `get` refreshes it (under the store's lock), and appears in no result, error or log line.
public enum NotionToolServer {
    public static func run(broker: Broker, provider: ProviderDefinition, connections: [String], readOnly: Bool) async -> Int32 {
        let calls = ToolCalls(broker: broker, provider: provider, connections: connections, readOnly: readOnly)
        let server = Server(
            name: "notionauth", version: Version.current, title: "Notion (notionauth)",
            instructions: """
                Tools over Notion's API for the connection\(connections.count == 1 ? "" : "s") \
                \(connections.joined(separator: ", ")). Ids may be given as Notion URLs. Only pages and \
                databases shared with the integration are visible.
                """,
            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in
            ListTools.Result(tools: calls.offered)
        }
        await server.withMethodHandler(CallTool.self) { parameters in
            try await calls.call(parameters)
        }
        do {
            try await server.start(transport: StandardIOTransport(logger: MCPLog.logger(label: "notionauth.mcp")))
            await server.waitUntilCompleted()
        } catch {
            broker.warn("the MCP server stopped: \(error)")
            return ExitStatus.failure.rawValue
        }
        return ExitStatus.success.rawValue
    }
}

/// Lines on standard error, the only place an MCP server on stdio may write anything but
/// protocol messages; warnings and worse only.
enum MCPLog {
    static func logger(label: String) -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        return logger
    }
}

/// What a tool call does: check the arguments, send one request with the connection's token
/// (APIClient: refresh when due, one refresh and retry after a 401, 429 waited out as
/// Retry-After says), and turn the answer into a tool result.
struct ToolCalls: Sendable {
    let broker: Broker
    let provider: ProviderDefinition
    /// The connections a call may name; the first is used when it names none.
    let connections: [String]
    let readOnly: Bool
    /// Each connection as last used, so that a call reads the store only when the token is
    /// due or was refused (APIClient's `reusing`); shared by the calls, which may overlap.
    private let kept = NIOLockedValueBox<[String: Connection]>([:])

    init(broker: Broker, provider: ProviderDefinition, connections: [String], readOnly: Bool) {
        self.broker = broker
        self.provider = provider
        self.connections = connections
        self.readOnly = readOnly
    }

    var tools: [NotionTool] { NotionTools.all.filter { !readOnly || !$0.changesContent } }

    /// The tools as the client sees them.
    var offered: [Tool] {
        tools.map { tool in
            var properties = tool.properties
            if connections.count > 1 {
                properties["connection"] = [
                    "type": "string", "enum": .array(connections.map(Value.string)),
                    "description": .string("Which Notion connection (workspace) to use; default \(connections[0])."),
                ]
            }
            var schema: [String: Value] = ["type": "object", "properties": .object(properties), "additionalProperties": false]
            if !tool.required.isEmpty { schema["required"] = .array(tool.required.map(Value.string)) }
            return Tool(
                name: tool.name, title: tool.title, description: tool.description, inputSchema: .object(schema),
                annotations: .init(
                    title: tool.title, readOnlyHint: !tool.changesContent,
                    destructiveHint: tool.changesContent ? tool.effect == .changes : nil,
                    idempotentHint: tool.changesContent ? nil : true, openWorldHint: true))
        }
    }

    func call(_ parameters: CallTool.Parameters) async throws -> CallTool.Result {
        guard let tool = tools.first(where: { $0.name == parameters.name }) else {
            let hidden = readOnly && NotionTools.named(parameters.name) != nil
            throw MCPError.invalidParams(
                hidden ? "\(parameters.name) changes content and this server is read-only (--read-only)" : "there is no tool named \(TerminalText.sanitize(String(parameters.name.prefix(64))))")
        }
        var arguments = ToolArguments(parameters.arguments)
        let connection: String
        let request: NotionRequest
        let body: [UInt8]?
        do throws(ToolArgumentError) {
            connection = try self.connection(&arguments)
            request = try tool.request(&arguments)
            try arguments.finish()
            body = try Self.encode(request.body)
        } catch {
            return Self.failure("Invalid arguments for \(tool.name): \(error.message).")
        }
        let path = request.query.isEmpty ? request.path : request.path + "?" + URLEncoding.query(request.query)
        let outcome = await send(method: request.method, path: path, body: body, connection: connection)
        switch outcome {
        case let .success(response):
            return result(of: tool, response: response, connection: connection)
        case let .failure(error):
            return Self.failure(message(for: error, connection: connection))
        }
    }

    private func connection(_ arguments: inout ToolArguments) throws(ToolArgumentError) -> String {
        guard connections.count > 1 else { return connections[0] }
        guard let name = try arguments.optionalChoice("connection", connections) else { return connections[0] }
        return name
    }

    private static func encode(_ body: [String: Value]?) throws(ToolArgumentError) -> [UInt8]? {
        guard let body else { return nil }
        guard let data = try? JSONEncoder().encode(Value.object(body)) else {
            throw ToolArgumentError("the arguments cannot be encoded as JSON")
        }
        guard data.count <= ToolArguments.maxBodyBytes else {
            throw ToolArgumentError("the request would be \(data.count) bytes; Notion takes at most 500 KB")
        }
        return Array(data)
    }

    private func send(method: String, path: String, body: [UInt8]?, connection: String) async -> Result<NotionAuthCore.HTTPResponse, NotionauthError> {
        var client = APIClient(broker: broker, provider: provider, connection: connection)
        client.onRateLimit = { [broker] wait, attempt in
            broker.warn("rate limited by Notion; retrying in \(wait) s (\(attempt)/\(APIClient.maxRateLimitRetries))")
        }
        let known = kept.withLockedValue { $0[connection] }
        do throws(NotionauthError) {
            let (response, used) = try await Blocking.run { [client] () throws(NotionauthError) in
                try client.send(method: method, path: path, body: body, reusing: known)
            }
            kept.withLockedValue { $0[connection] = used }
            return .success(response)
        } catch {
            // Whatever went wrong, the next call starts again from the store.
            kept.withLockedValue { $0[connection] = nil }
            return .failure(error)
        }
    }

    private func result(of tool: NotionTool, response: NotionAuthCore.HTTPResponse, connection: String) -> CallTool.Result {
        let text = String(decoding: response.body, as: UTF8.self)
        guard (200..<300).contains(response.status) else {
            return Self.failure(message(forStatusOf: response, connection: connection))
        }
        let structured = MCPValue.object(fromJSON: response.body)
        var content: [Tool.Content] = [.text(text: text, annotations: nil, _meta: nil)]
        if let fields = structured?.objectValue, fields["has_more"]?.boolValue == true, let cursor = fields["next_cursor"]?.stringValue {
            content.append(.text(
                text: "More results: call \(tool.name) again with the same arguments and \"start_cursor\": \(JSONValue.string(cursor).encoded()).",
                annotations: nil, _meta: nil))
        }
        return CallTool.Result(content: content, structuredContent: structured, isError: false)
    }

    /// Notion's refusal, with what to do about it, as `api` says it.
    private func message(forStatusOf response: NotionAuthCore.HTTPResponse, connection: String) -> String {
        var text = "Notion answered HTTP \(response.status): \(ProviderErrorMessage.describe(response))."
        if let hint = ProviderErrorMessage.hint(for: response) { text += " Hint: \(hint)." }
        switch response.status {
        case 401:
            text += " The token was refused even after a refresh; the user must log in again: `\(loginCommand(connection))`."
        case 429:
            text += " Notion is still rate limiting after \(APIClient.maxRateLimitRetries) retries; wait \(response.header("Retry-After").map { "\($0) seconds" } ?? "a while") and try again."
        default:
            break
        }
        return text
    }

    private func message(for error: NotionauthError, connection: String) -> String {
        var text = TerminalText.sanitize(error.description)
        if error.exitStatus == .authenticationNeeded, !text.contains("notionauth login") {
            text += "; the user must log in again: `\(loginCommand(connection))`"
        }
        return text
    }

    private func loginCommand(_ connection: String) -> String {
        "notionauth login \(provider.name)" + (connection == ConnectionName.defaultName ? "" : " --connection \(connection)")
    }

    private static func failure(_ message: String) -> CallTool.Result {
        CallTool.Result(content: [.text(text: message, annotations: nil, _meta: nil)], isError: true)
    }
}

/// Notion's JSON as the SDK's `Value`, for `structuredContent`. Through JSONSerialization,
/// which is several times faster here than decoding `Value` with JSONDecoder (that tries each
/// type in turn for every value, and turns strings that look like data: URLs into data).
enum MCPValue {
    /// The value of a JSON object's text, or nil for anything else.
    static func object(fromJSON bytes: [UInt8]) -> Value? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return nil }
        return convert(object)
    }

    private static func convert(_ value: Any) -> Value {
        switch value {
        case let text as String:
            return .string(text)
        case let number as NSNumber:
            // Booleans come back as NSNumbers too; only they have the C type `char`.
            if String(cString: number.objCType) == "c" { return .bool(number.boolValue) }
            if let integer = Int(exactly: number), !String(cString: number.objCType).contains("d") { return .int(integer) }
            return .double(number.doubleValue)
        case let array as [Any]:
            return .array(array.map(convert))
        case let object as [String: Any]:
            return .object(object.mapValues(convert))
        default:
            return .null
        }
    }
}
