import NotionAuthCore
import NotionAuthLogin
public struct GetOptions: Equatable, Sendable {
    public var provider: String
    /// Nil: the provider's default (`use`, NOTIONAUTH_CONNECTION, else `default`).
    public var connection: String?
    public var field: String?
    public var showSecrets = false
}

/// `notionauth get PROVIDER [--connection NAME] [--field F] [--show-secrets]`
struct GetCommand: CommandDefinition {
    static let field = CommandSpec.Option("field", short: "f", value: "FIELD", "print this field alone (access_token prints the raw token)")
    static let showSecrets = CommandSpec.Option("show-secrets", "show the access and refresh tokens instead of masking them")
    static let spec = CommandSpec(
        name: "get", synopsis: "get PROVIDER [--connection NAME] [--field FIELD] [--show-secrets]",
        summary: "show a connection, or print one field of it",
        options: [CommandSpec.connection, field, showSecrets],
        minPositionals: 1, maxPositionals: 1,
        details: """
        Fields: \(ConnectionView.fieldList).
        Status is one of not_connected, connected, expired, revoked, invalid.

        Examples:
          curl -H "Authorization: Bearer $(notionauth get notion --field access_token)" …
          notionauth get notion --field status
        """,
        operands: .provider)

    let options: GetOptions

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        var options = GetOptions(provider: arguments.firstPositional!)
        options.connection = try arguments.connection()
        options.field = arguments.value(Self.field)
        options.showSecrets = arguments.flag(Self.showSecrets)
        self.options = options
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        try Self.run(options, session: session)
    }

    static func run(_ options: GetOptions, session: Session) throws(NotionauthError) -> ExitStatus {
        let provider = try session.provider(options.provider).definition
        if let field = options.field {
            guard ConnectionView.fieldNames.contains(field) else {
                throw .fieldNotFound(field, available: ConnectionView.fieldNames)
            }
            if ConnectionView.secretFields.contains(field) && !options.showSecrets {
                throw .usage("\(field) is a secret; add --show-secrets to print it", command: Self.spec.name)
            }
        }
        // One snapshot for the default connection and the record: `get` opens the vault once.
        let snapshot = try session.store.snapshot()
        let name = try session.broker.connectionName(provider: provider.name, given: options.connection, in: snapshot)
        guard let connection = try snapshot.connection(provider: provider.name, name: name) else {
            if options.field == "status" {
                session.output(session.global.json ? jsonObject(["status": .string("not_connected")]) : "not_connected\n")
                return .success
            }
            throw .notLoggedIn(provider: provider.name, connection: name)
        }
        var view = ConnectionView(connection: connection, now: session.now)

        if let field = options.field {
            if field == "access_token" {
                // A token about to expire is refreshed before it is handed out.
                view = ConnectionView(connection: try TokenRefresh(broker: session.broker, provider: provider).usable(connection), now: session.now)
            }
            guard let value = view.value(field), value != .null else {
                throw .fieldNotFound(field, available: view.fields(showSecrets: false).map(\.0))
            }
            if session.global.json {
                session.output(jsonObject([field: value]))
            } else {
                session.output(display(value, session: session) + "\n")
            }
            return .success
        }

        let fields = view.fields(showSecrets: options.showSecrets)
        if session.global.json {
            session.output(jsonObject(["connection": .object(Dictionary(uniqueKeysWithValues: fields))]))
        } else {
            let width = fields.map(\.0.count).max() ?? 0
            session.output(fields.map { "\($0.0.padding(to: width))  \(display($0.1, session: session))\n" }.joined())
        }
        return .success
    }

    /// A value as text: exactly as stored for a script, made safe when a terminal shows it
    /// (a workspace name is the provider's text).
    private static func display(_ value: JSONValue, session: Session) -> String {
        let text = value.stringValue ?? value.encoded()
        return session.context.stdoutIsTerminal ? TerminalText.sanitize(text) : text
    }
}

/// A top-level JSON object with a `version` field, so fields can be added later.
func jsonObject(_ fields: [String: JSONValue]) -> String {
    var object = fields
    object["version"] = .int(1)
    return JSONValue.object(object).encoded(pretty: false) + "\n"
}
