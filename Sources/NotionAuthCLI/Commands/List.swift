import NotionAuthCore
import NotionAuthLogin
/// `notionauth list`: every provider, where its definition comes from, and its connections.

struct ListCommand: CommandDefinition {
    static let spec = CommandSpec(
        name: "list", synopsis: "list",
        summary: "list providers and their connections",
        options: [],
        minPositionals: 0, maxPositionals: 0,
        details: "")

    init(_ arguments: ParsedArguments) throws(NotionauthError) {}

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        try Self.run(session: session)
    }

    static func run(session: Session) throws(NotionauthError) -> ExitStatus {
        let providers = try session.providers.all()
        for provider in providers { for warning in provider.warnings { session.warn(warning) } }
        let snapshot = try session.store.snapshot()
        let connections = try snapshot.connections()
        let byProvider = Dictionary(grouping: connections, by: \.provider)
        // The connection each provider's commands use without --connection (`use`).
        var inUse: [String: String] = [:]
        for provider in byProvider.keys {
            inUse[provider] = try session.broker.connectionName(provider: provider, given: nil, in: snapshot)
        }
        let now = session.now
        let connectedProviders = providers.filter { provider in
            byProvider[provider.definition.name, default: []].contains { $0.effectiveStatus(now: now) == .connected }
        }.count
        // Connections whose provider definition was removed still show, so nothing is hidden.
        let orphans = byProvider.keys.filter { name in !providers.contains { $0.definition.name == name } }.sorted()

        if session.global.json {
            var items: [JSONValue] = providers.map { provider in
                let d = provider.definition
                return .object([
                    "name": .string(d.name), "display_name": .string(d.displayName),
                    "source": .string(provider.source.rawValue), "file": .string(provider.file),
                    "auth": .string(d.authType),
                    "connections": .array(byProvider[d.name, default: []].map { connectionJSON($0, now: now, inUse: inUse[d.name]) }),
                ])
            }
            items += orphans.map { name in
                .object([
                    "name": .string(name), "source": .string("missing"),
                    "connections": .array(byProvider[name, default: []].map { connectionJSON($0, now: now, inUse: inUse[name]) }),
                ])
            }
            session.output(jsonObject([
                "providers": .array(items),
                "total": .int(Int64(providers.count)), "connected": .int(Int64(connectedProviders)),
            ]))
            return .success
        }

        var rows: [[String]] = [["PROVIDER", "SOURCE", "AUTH", "CONNECTION", "STATUS", "WORKSPACE", "EXPIRES"]]
        for provider in providers {
            let d = provider.definition
            let mine = byProvider[d.name, default: []]
            if mine.isEmpty {
                rows.append([d.name, provider.source.rawValue, d.authType, "-", Connection.Status.notConnected.rawValue, "-", "-"])
            }
            for connection in mine {
                rows.append([d.name, provider.source.rawValue, d.authType] + connectionColumns(connection, now: now, inUse: inUse[d.name]))
            }
        }
        for name in orphans {
            for connection in byProvider[name, default: []] {
                rows.append([name, "missing", "-"] + connectionColumns(connection, now: now, inUse: inUse[name]))
            }
        }
        // A connection named `default` in use is not marked: that is what happens without a choice.
        let marked = rows.contains { $0[3].hasSuffix(" *") }
        session.output("Providers: \(providers.count) total, \(connectedProviders) connected\n\n" + Table.render(rows)
            + (marked ? "\n* used when --connection is not given (notionauth use PROVIDER CONNECTION)\n" : ""))
        return .success
    }

    private static func connectionColumns(_ connection: Connection, now: Int64, inUse: String?) -> [String] {
        let expires = connection.expiresAt.map { expiry in
            expiry > now ? "expires \(Timestamp.relative(expiry, now: now))" : "expired \(Timestamp.relative(expiry, now: now))"
        } ?? "-"
        return [connection.name + (connection.name == inUse && connection.name != ConnectionName.defaultName ? " *" : ""), connection.effectiveStatus(now: now).rawValue, connection.workspaceName ?? connection.userLabel ?? "-", expires]
    }

    private static func connectionJSON(_ connection: Connection, now: Int64, inUse: String?) -> JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(connection.name),
            "default": .bool(connection.name == inUse),
            "status": .string(connection.effectiveStatus(now: now).rawValue),
            "kind": .string(connection.kind.rawValue),
            "obtained_at": .string(Timestamp.iso8601(connection.obtainedAt)),
        ]
        if let value = connection.workspaceName { object["workspace_name"] = .string(value) }
        if let value = connection.workspaceID { object["workspace_id"] = .string(value) }
        if let value = connection.userinfo { object["userinfo"] = value }
        if let value = connection.expiresAt { object["expires_at"] = .string(Timestamp.iso8601(value)) }
        return .object(object)
    }
}

enum Table {
    /// Left-aligned columns separated by two spaces; the last column is not padded.
    /// Cells are sanitised: workspace names and details come from providers.
    static func render(_ rows: [[String]]) -> String {
        let rows = rows.map { $0.map { TerminalText.sanitize($0) } }
        guard let columns = rows.first?.count else { return "" }
        let widths = (0..<columns).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == columns - 1 ? cell : cell.padding(to: widths[column])
            }.joined(separator: "  ") + "\n"
        }.joined()
    }
}
