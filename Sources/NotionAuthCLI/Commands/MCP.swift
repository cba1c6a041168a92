import NotionAuthCore
import NotionAuthLogin
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct MCPOptions: Equatable, Sendable {
    public var provider = "notion"
    /// In the order given; the first is the default. Empty means `default` alone.
    public var connections: [String] = []
    public var readOnly = false

    /// The connections a tool may name, the first being the one used when it names none.
    /// The connections the server may use: those given, else the provider's default one.
    public func allowedConnections(broker: Broker, provider: String) throws(NotionauthError) -> [String] {
        connections.isEmpty ? [try broker.connectionName(provider: provider, given: nil)] : connections
    }
}

/// `notionauth mcp [PROVIDER] [--connection NAME]… [--read-only]`: an MCP server on standard
/// input and output. The server is the executable `notionauth-mcp` installed beside this one
/// (as git runs `git-NAME`): the MCP SDK brings Swift concurrency and Foundation's networking,
/// whose start-up cost `get` and `export` must not pay (README, "Speed").
public struct MCPCommand: CommandDefinition {
    public static let readOnly = CommandSpec.Option("read-only", "offer only the tools that do not change content")
    public static let connections = CommandSpec.Option(
        "connection", short: "c", value: "NAME",
        "a connection the tools may use; repeat for several (the first is the default; default: default)")
    public static let spec = CommandSpec(
        name: "mcp", synopsis: "mcp [notion|notion-mcp] [--connection NAME]… [--read-only]",
        summary: "serve Notion to an agent over the Model Context Protocol (stdio)",
        options: [connections, readOnly],
        minPositionals: 0, maxPositionals: 1,
        details: """
        For `notion` (the default): tools for search, pages, blocks, databases, comments and
        users that call Notion's API with the stored token, refreshed as `get` does; the agent
        never sees it. For `notion-mcp`: a bridge to Notion's hosted MCP server that adds the
        token to every request. Standard output carries only protocol messages; logs go to
        standard error.

        MCP client configuration:
          {"mcpServers": {"notion": {"command": "notionauth", "args": ["mcp"]}}}
        """,
        operands: .provider)

    public static let executableName = "notionauth-mcp"

    public let options: MCPOptions

    public init(_ arguments: ParsedArguments) throws(NotionauthError) {
        var options = MCPOptions()
        if let provider = arguments.firstPositional { options.provider = provider }
        options.connections = try arguments.connections(Self.connections)
        options.readOnly = arguments.flag(Self.readOnly)
        self.options = options
    }

    public func run(session: Session) throws(NotionauthError) -> ExitStatus {
        // Fail here, with our own error handling, for what the server would refuse anyway.
        _ = try session.provider(options.provider)
        var arguments = [Self.spec.name]
        if let vault = session.global.vault { arguments += ["--\(CommandSpec.vault.name)", vault] }
        if session.global.quiet { arguments.append("--\(CommandSpec.quiet.name)") }
        arguments.append(options.provider)
        for connection in options.connections { arguments += ["--\(Self.connections.name)", connection] }
        if options.readOnly { arguments.append("--\(Self.readOnly.name)") }
        try SiblingExecutable.replaceProcess(with: Self.executableName, arguments: arguments)
        return .failure
    }
}

/// An executable installed beside the running one (as git runs `git-NAME`).
public enum SiblingExecutable {
    /// `name` in the directory of the running executable (symbolic links resolved, so that a
    /// link to notionauth on PATH still finds it).
    public static func path(_ executableName: String) throws(NotionauthError) -> String {
        guard let me = realpath("/proc/self/exe", nil) else {
            throw .failure("cannot find where notionauth is installed: \(String(cString: strerror(errno)))")
        }
        defer { free(me) }
        let path = String(cString: me)
        let directory = path[..<(path.lastIndex(of: "/") ?? path.startIndex)]
        let server = "\(directory)/\(executableName)"
        guard access(server, X_OK) == 0 else {
            throw .failure("\(executableName) is not installed beside notionauth (looked for \(server)); reinstall with scripts/install")
        }
        return server
    }

    /// Replaces this process by `executableName ARGUMENTS` from beside it; returns only by
    /// throwing, when it could not.
    public static func replaceProcess(with executableName: String, arguments: [String]) throws(NotionauthError) {
        let executable = try path(executableName)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        execv(executable, argv)
        throw .failure("cannot run \(executable): \(String(cString: strerror(errno)))")
    }
}
