import NotionAuthCore
import NotionAuthLogin
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct StatusOptions: Equatable, Sendable {
    public var provider: String?
    public var connection: String?
}

/// `notionauth status [PROVIDER] [--connection NAME]`: live checks, not just what is stored.
struct StatusCommand: CommandDefinition {
    static let connection = CommandSpec.Option("connection", short: "c", value: "NAME", "check only this connection")
    static let spec = CommandSpec(
        name: "status", synopsis: "status [PROVIDER] [--connection NAME]",
        summary: "check connections live with the provider, and the vault's files",
        options: [connection],
        minPositionals: 0, maxPositionals: 1,
        details: """
        Each connection is checked with the provider (introspection where it has it, else its
        identity endpoint) and reported as connected, expired, revoked, invalid, unreachable or not_connected;
        the stored status is updated. Also checks the vault's and key file's permissions and the
        provider definitions. Exit 0 when everything asked about is usable, 4 when a connection
        needs a login, 1 otherwise.
        """,
        operands: .provider)

    let options: StatusOptions

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        var options = StatusOptions(provider: arguments.firstPositional)
        options.connection = try arguments.connection(Self.connection)
        self.options = options
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        try Self.run(options, session: session)
    }

    enum Live: String {
        case connected, expired, revoked, invalid, unreachable
        case notConnected = "not_connected"

        var needsLogin: Bool { self == .expired || self == .revoked || self == .invalid || self == .notConnected }
    }

    struct Row {
        var provider: String
        var connection: String
        var status: Live
        var detail: String
        var stored: Connection?
    }

    static func run(_ options: StatusOptions, session: Session) throws(NotionauthError) -> ExitStatus {
        var problems = localProblems(session)
        let providers: [ResolvedProvider]
        if let name = options.provider {
            providers = [try session.provider(name)]
        } else {
            do {
                providers = try session.providers.all()
            } catch {
                problems.append(error.description)
                providers = []
            }
        }
        let connections = try session.store.snapshot().connections()
        var rows: [Row] = []
        for provider in providers {
            let definition = provider.definition
            let mine = connections.filter { $0.provider == definition.name && (options.connection == nil || $0.name == options.connection) }
            if mine.isEmpty && options.provider != nil {
                rows.append(Row(provider: definition.name, connection: options.connection ?? ConnectionName.defaultName, status: .notConnected, detail: "run `notionauth login \(definition.name)`", stored: nil))
            }
            for connection in mine {
                rows.append(check(connection, provider: definition, session: session))
            }
        }

        if let wanted = options.connection, options.provider == nil, rows.isEmpty {
            throw .connectionNotFound(provider: "any provider", connection: wanted)
        }
        if session.global.json {
            session.output(jsonObject([
                "connections": .array(rows.map { row in
                    var object: [String: JSONValue] = [
                        "provider": .string(row.provider), "connection": .string(row.connection),
                        "status": .string(row.status.rawValue), "detail": .string(row.detail),
                    ]
                    if let stored = row.stored {
                        if let name = stored.workspaceName { object["workspace_name"] = .string(name) }
                        object["obtained_at"] = .string(Timestamp.iso8601(stored.obtainedAt))
                        if let refreshed = stored.refreshedAt { object["refreshed_at"] = .string(Timestamp.iso8601(refreshed)) }
                        if let expires = stored.expiresAt { object["expires_at"] = .string(Timestamp.iso8601(expires)) }
                    }
                    return .object(object)
                }),
                "problems": .array(problems.map(JSONValue.string)),
            ]))
        } else {
            var table: [[String]] = [["PROVIDER", "CONNECTION", "STATUS", "WORKSPACE", "OBTAINED", "REFRESHED", "DETAIL"]]
            for row in rows {
                let now = session.now
                table.append([
                    row.provider, row.connection, row.status.rawValue, row.stored?.workspaceName ?? "-",
                    row.stored.map { Timestamp.relative($0.obtainedAt, now: now) } ?? "-",
                    row.stored?.refreshedAt.map { Timestamp.relative($0, now: now) } ?? "-",
                    row.detail,
                ])
            }
            session.output(rows.isEmpty ? "No connections. Run `notionauth login notion` to add one.\n" : Table.render(table))
            for problem in problems { session.warn(problem) }
        }
        if rows.contains(where: { $0.status.needsLogin }) { return .authenticationNeeded }
        if !problems.isEmpty || rows.contains(where: { $0.status == .unreachable }) { return .failure }
        return .success
    }

    /// Asks the provider about one connection and records what it says.
    static func check(_ connection: Connection, provider: ProviderDefinition, session: Session) -> Row {
        var row = Row(provider: provider.name, connection: connection.name, status: .connected, detail: "", stored: connection)
        let refresh = TokenRefresh(broker: session.broker, provider: provider)
        if connection.status == .revoked || connection.status == .invalid {
            row.status = connection.status == .revoked ? .revoked : .invalid
            row.detail = "log in again with --force"
            return row
        }
        do {
            // A token past or near its known expiry is refreshed first (MCP tokens last an hour).
            var current = try refresh.usableConnection(named: connection.name)
            row.stored = current
            let client = TokenRefresh.client(for: current, stored: try session.store.clientCredentials(provider: provider.name), provider: provider, environment: session.context.environment)
            let resolved = try IssuerMetadata.resolve(provider, client: client, context: session.context).0
            if let introspection = resolved.oauth?.introspectionURL, current.kind == .oauth, let client {
                let endpoint = try TokenEndpoint.make(provider: resolved, client: client, context: session.context)
                let response = try endpoint.post(to: introspection, [("token", current.accessToken)], client: client)
                guard (200..<300).contains(response.status), let active = response.json?["active"] else {
                    row.status = .unreachable
                    row.detail = "introspection answered HTTP \(response.status)"
                    return row
                }
                if active == .bool(true) {
                    row.detail = "checked by introspection"
                } else {
                    current = try refresh.afterRejection(of: current)
                    row.stored = current
                    row.detail = "refreshed after introspection found the token inactive"
                }
            } else if provider.api.identityPath != nil {
                let api = ProviderAPI(definition: provider, context: session.context)
                do {
                    _ = try api.identity(token: current.accessToken)
                    row.detail = "checked with \(provider.api.identityPath!)"
                } catch .authenticationFailed {
                    current = try refresh.afterRejection(of: current)
                    _ = try api.identity(token: current.accessToken)
                    row.stored = current
                    row.detail = "refreshed after the API refused the token"
                }
            } else {
                row.detail = "no way to check it live; valid by its expiry"
            }
        } catch let .credentialUnusable(_, _, status) {
            row.status = Live(rawValue: status) ?? .invalid
            row.detail = "log in again: notionauth login \(provider.name)\(connection.name == ConnectionName.defaultName ? "" : " --connection \(connection.name)") --force"
        } catch let .network(message), let .noAnswer(message) {
            row.status = .unreachable
            row.detail = message
        } catch .authenticationFailed(let message) {
            row.status = .invalid
            row.detail = message
        } catch {
            row.status = .unreachable
            row.detail = error.description
        }
        return row
    }

    /// Permissions of the vault's files.
    static func localProblems(_ session: Session) -> [String] {
        var problems: [String] = []
        let checks: [(String, UInt32, String)] = [
            (FileSystem.directoryName(session.vault.path), 0o077, "chmod 700"),
            (session.vault.path, 0o077, "chmod 600"),
            (session.vault.keyPath, 0o077, "chmod 600"),
            // What notionauth runs for the key: others may read it, never change it.
            (session.vault.keyCommandPath, 0o022, "chmod 600"),
        ]
        for (path, forbidden, remedy) in checks {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            let mode = UInt32(info.st_mode) & 0o7777
            if mode & forbidden != 0 {
                problems.append("\(path) is accessible by others (mode \(octal(mode))); run `\(remedy) \(path)`")
            }
        }
        return problems
    }
}
