import NotionAuthCore
import NotionAuthLogin

public enum StoreAction: String, CaseIterable, Sendable {
    case status, `init`, copy
}

/// `notionauth store [status|init|copy --from URL --to URL]`: the store behind every command
/// (`--store`, NOTIONAUTH_STORE): the file vault, or PostgreSQL shared between machines.
struct StoreCommand: CommandDefinition {
    static let from = CommandSpec.Option("from", value: "URL", "copy: the store to read (file:PATH or postgres://…)")
    static let to = CommandSpec.Option("to", value: "URL", "copy: the store to write (file:PATH or postgres://…)")
    static let spec = CommandSpec(
        name: "store", synopsis: "store [status|init|copy --from URL --to URL]",
        summary: "create, show or copy the credential store",
        options: [from, to],
        minPositionals: 0, maxPositionals: 1,
        details: """
        status  location (never the password), schema version, key source, connection and client counts (the default)
        init    create or migrate the schema of a PostgreSQL store (idempotent)
        copy    copy every connection and client credential from one store to another
        A store is file:PATH (the vault) or a libpq URL, postgres://USER@HOST:PORT/DATABASE?sslmode=…;
        the password comes from the URL, PGPASSWORD or ~/.pgpass. Records are sealed on this
        machine under the namespace's key, wrapped by NOTIONAUTH_VAULT_KEY, the key file or a
        passphrase: the database never sees a token (notionauth-store(5)).
        """,
        operands: .words(StoreAction.allCases.map(\.rawValue)))

    let action: StoreAction
    let source: String?
    let destination: String?

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        let word = arguments.firstPositional ?? StoreAction.status.rawValue
        guard let action = StoreAction(rawValue: word) else {
            throw .usage("unknown store action '\(word)'; actions: \(StoreAction.allCases.map(\.rawValue).joined(separator: ", "))", command: Self.spec.name)
        }
        self.action = action
        source = arguments.value(Self.from)
        destination = arguments.value(Self.to)
        if action == .copy {
            guard source != nil, destination != nil else {
                throw .usage("store copy needs --from URL and --to URL", command: Self.spec.name)
            }
            guard source != destination else { throw .usage("--from and --to are the same store", command: Self.spec.name) }
        } else if source != nil || destination != nil {
            throw .usage("--from and --to are for store copy", command: Self.spec.name)
        }
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        switch action {
        case .status: return try status(session)
        case .`init`: return try initialize(session)
        case .copy: return try copy(session)
        }
    }

    private func managed(_ store: any CredentialStore) throws(NotionauthError) -> any ManagedStore {
        guard let managed = store as? any ManagedStore else {
            throw .failure("the store \(store.location) cannot be initialised or described")
        }
        return managed
    }

    private func initialize(_ session: Session) throws(NotionauthError) -> ExitStatus {
        session.info(try managed(session.store).initialize())
        return .success
    }

    private func status(_ session: Session) throws(NotionauthError) -> ExitStatus {
        let fields = try managed(session.store).statusFields()
        if session.global.json {
            session.output(jsonObject(["store": .object(Dictionary(uniqueKeysWithValues: fields))]))
        } else {
            let width = fields.map(\.0.count).max() ?? 0
            session.output(fields.map { "\($0.0.padding(to: width))  \($0.1.stringValue ?? $0.1.encoded())\n" }.joined())
        }
        return .success
    }

    private func copy(_ session: Session) throws(NotionauthError) -> ExitStatus {
        let from = store(session, url: source!)
        let to = store(session, url: destination!)
        let snapshot = try from.snapshot()
        let connections = try snapshot.connections()
        var clients: [ClientCredentials] = []
        for provider in try snapshot.clientProviders() {
            if let client = try snapshot.clientCredentials(provider: provider) { clients.append(client) }
        }
        var defaults: [ConnectionDefault] = []
        for provider in try snapshot.defaultProviders() {
            if let connection = try snapshot.defaultConnection(provider: provider) { defaults.append(ConnectionDefault(provider: provider, connection: connection)) }
        }
        try to.update { (changes: inout CredentialChanges) throws(NotionauthError) in
            for connection in connections { changes.store(connection) }
            for client in clients { changes.store(client) }
            for choice in defaults { changes.setDefaultConnection(choice.connection, provider: choice.provider) }
        }
        // Read back: what was written must open to exactly what was read.
        let written = try to.snapshot()
        for connection in connections where try written.connection(provider: connection.provider, name: connection.name) != connection {
            throw .failure("connection \(connection.provider)/\(connection.name) reads back differently from \(to.location)")
        }
        for client in clients where try written.clientCredentials(provider: client.provider) != client {
            throw .failure("the client credentials of \(client.provider) read back differently from \(to.location)")
        }
        for choice in defaults where try written.defaultConnection(provider: choice.provider) != choice.connection {
            throw .failure("the default connection of \(choice.provider) reads back differently from \(to.location)")
        }
        session.info("Copied \(connections.count) connection\(connections.count == 1 ? "" : "s") and \(clients.count) client credential\(clients.count == 1 ? "" : "s") from \(from.location) to \(to.location).")
        return .success
    }

    private func store(_ session: Session, url: String) -> any CredentialStore {
        Broker(context: session.context, vaultPath: session.global.vault, storeURL: url, namespace: session.global.namespace, warn: session.warn).store
    }
}
