import Foundation
import NotionAuthCore

/// A JSON-RPC message on its way through the bridge: relayed as the bytes it came as, and read
/// only for what the transport needs (whether it is a request, and which).
struct RelayedMessage: Sendable {
    let bytes: Data
    /// The id of a request (a message with a method and an id); nil for notifications and responses.
    let requestID: JSONValue?
    let method: String?

    init(_ bytes: Data) {
        self.bytes = bytes
        let json = try? JSONValue.parse(Array(bytes))
        method = json?["method"]?.stringValue
        requestID = method == nil ? nil : json?["id"].flatMap { $0 == .null ? nil : $0 }
    }

    var isInitialize: Bool { method == "initialize" }

    /// The JSON-RPC error the client gets in place of the server's answer to this request.
    func errorResponse(_ error: BridgeError) -> Data? {
        guard let requestID else { return nil }
        let answer: JSONValue = .object([
            "jsonrpc": .string("2.0"),
            "id": requestID,
            "error": .object(["code": .int(error.code), "message": .string(error.message)]),
        ])
        return Data(answer.encoded().utf8)
    }

    /// One line of standard output: JSON allows a line break only as whitespace between tokens
    /// (inside strings it is escaped), so replacing it with a space keeps the message intact.
    static func line(_ message: some Collection<UInt8>) -> Data {
        var line = Data(message.map { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") ? UInt8(ascii: " ") : $0 })
        line.append(UInt8(ascii: "\n"))
        return line
    }
}

/// Why the bridge answers a request itself, with the JSON-RPC error code the client sees
/// (implementation-defined server errors, -32000 to -32099; documented in notionauth(1)).
enum BridgeError: Error {
    /// The connection needs a login (missing, revoked, refused after a refresh).
    case loginNeeded(NotionauthError)
    /// The server forgot the session (404 to a request that carried its id).
    case sessionExpired
    /// The server could not be reached or answered something other than MCP.
    case upstream(String)

    var code: Int64 {
        switch self {
        case .loginNeeded: -32001
        case .sessionExpired: -32002
        case .upstream: -32003
        }
    }

    var message: String {
        switch self {
        case let .loginNeeded(error): error.description
        case .sessionExpired: "the MCP server ended the session; restart the MCP client to start a new one"
        case let .upstream(message): message
        }
    }
}
