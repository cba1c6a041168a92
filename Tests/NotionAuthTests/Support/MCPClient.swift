import Foundation
import Testing
@testable import NotionAuthCore

/// One session of the independent MCP client (Tests/Python/mcp_client.py, on the `mcp` SDK from
/// PyPI) with `notionauth mcp …` as its server: what the client reported, and every byte the
/// server wrote to standard output and standard error. (Unchecked: the report is parsed JSON,
/// never changed after it is made.)
struct MCPClientRun: @unchecked Sendable {
    let report: [String: Any]
    let serverStdout: String
    let serverStderr: String

    /// What step `index` reported (a tool result, a JSON-RPC error or the tool list).
    func step(_ index: Int) -> [String: Any] {
        ((report["steps"] as? [[String: Any]]) ?? [])[index]
    }

    var steps: [[String: Any]] { (report["steps"] as? [[String: Any]]) ?? [] }

    var tools: [[String: Any]] { (steps.first { $0["tools"] != nil }?["tools"] as? [[String: Any]]) ?? [] }
}

/// The steps of a plan, as mcp_client.py reads them.
enum MCPStep {
    case listTools
    case call(String, [String: Any])
    case sleep(Double)

    var json: [String: Any] {
        switch self {
        case .listTools: ["list_tools": true]
        case let .call(name, arguments): ["call": name, "arguments": arguments]
        case let .sleep(seconds): ["sleep": seconds]
        }
    }
}

extension MCPStep {
    static func call(_ name: String) -> MCPStep { .call(name, [:]) }
}

/// A tool result's parts, read the way an agent reads them.
extension Dictionary where Key == String, Value == Any {
    var isError: Bool { self["isError"] as? Bool ?? false }
    /// The text contents, joined.
    var text: String { ((self["content"] as? [[String: Any]]) ?? []).compactMap { $0["text"] as? String }.joined(separator: "\n") }
    var structured: [String: Any]? { self["structuredContent"] as? [String: Any] }
    var rpcError: [String: Any]? { self["error"] as? [String: Any] }
}

extension Sandbox {
    /// Runs `notionauth mcp ARGUMENTS` under the Python MCP client through `steps`.
    func mcpSession(
        _ arguments: [String] = [], _ steps: [MCPStep], environment extra: [String: String] = [:], notionauth: String = Binary.notionauth
    ) async throws -> MCPClientRun {
        try Python.requireInterpreter()
        let stdoutCopy = root + "/mcp-stdout-\(UUID().uuidString)"
        let stderrPath = root + "/mcp-stderr-\(UUID().uuidString)"
        // tee keeps a copy of every byte the server writes, for the secret scans; the
        // client still reads the same stream.
        let command = ["/bin/sh", "-c", "\"$0\" \"$@\" | tee \"$NOTIONAUTH_TEST_STDOUT_COPY\"", notionauth, "mcp"] + arguments
        var environment = self.environment.merging(extra) { $1 }
        environment["NOTIONAUTH_TEST_STDOUT_COPY"] = stdoutCopy
        let plan: [String: Any] = ["command": command, "env": environment, "stderr": stderrPath, "steps": steps.map(\.json)]
        let planText = String(decoding: try JSONSerialization.data(withJSONObject: plan), as: UTF8.self)
        let result = try await Binary.run(
            Python.interpreter, [Python.script("mcp_client.py")], stdin: planText,
            environment: ["PATH": self.environment["PATH"] ?? "/usr/bin:/bin", "HOME": self.environment["HOME"] ?? root],
            directory: root, timeoutSeconds: 120)
        let serverStdout = (try? String(contentsOfFile: stdoutCopy, encoding: .utf8)) ?? ""
        let serverStderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        try #require(result.status == 0, "the MCP client failed: \(result.stderr)\nserver stderr: \(serverStderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "client report: \(result.stdout)")
        return MCPClientRun(report: report, serverStdout: serverStdout, serverStderr: serverStderr)
    }
}
