import NotionAuthCore

public struct UseOptions: Equatable, Sendable {
    public var provider: String
    /// Nil: show the current choice.
    public var connection: String?
}

/// `notionauth use PROVIDER [CONNECTION]`, like `gh auth switch` and `kubectl config
/// use-context`: CONNECTION becomes what every command uses for PROVIDER when no
/// `--connection` is given. The choice is stored in the store, so it follows the vault (or the
/// shared store's namespace); NOTIONAUTH_CONNECTION overrides it for one shell.
struct UseCommand: CommandDefinition {
    static let spec = CommandSpec(
        name: "use", synopsis: "use PROVIDER [CONNECTION]",
        summary: "choose the connection that commands use when --connection is not given",
        options: [],
        minPositionals: 1, maxPositionals: 2,
        details: """
        Without CONNECTION, prints the connection in use for PROVIDER and why. `use PROVIDER
        default` goes back to the connection named default. NOTIONAUTH_CONNECTION overrides the
        choice (for every provider) in one shell; --connection overrides both for one command.

        Example:
          notionauth login notion --connection work
          notionauth use notion work
          notionauth get notion --field workspace_name    # work's
        """,
        operands: .providerThenConnection)

    let options: UseOptions

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        let positionals = arguments.positionals
        options = UseOptions(provider: positionals[0], connection: positionals.count > 1 ? positionals[1] : nil)
        if let name = options.connection, !ConnectionName.isValid(name) {
            throw .usage("'\(name)' is not a valid connection name (letters, digits, '.', '_', '-'; at most 64)", command: Self.spec.name)
        }
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        let provider = try session.provider(options.provider).definition
        guard let wanted = options.connection else { return try show(provider: provider, session: session) }
        try session.store.update { (changes: inout CredentialChanges) throws(NotionauthError) in
            // Only a connection that exists can be chosen (`default` always can: it is what
            // commands use without a choice), so a typo is caught now, not at the next `get`.
            if wanted != ConnectionName.defaultName, try changes.connection(provider: provider.name, name: wanted) == nil {
                throw .connectionNotFound(provider: provider.name, connection: wanted)
            }
            changes.setDefaultConnection(wanted, provider: provider.name)
        }
        session.info("\(provider.displayName) commands now use connection '\(wanted)' when --connection is not given.")
        if let overriding = session.context.environment["NOTIONAUTH_CONNECTION"], !overriding.isEmpty, overriding != wanted {
            session.warn("NOTIONAUTH_CONNECTION=\(overriding) is set in this shell and takes precedence over the choice")
        }
        return .success
    }

    private func show(provider: ProviderDefinition, session: Session) throws(NotionauthError) -> ExitStatus {
        let snapshot = try session.store.snapshot()
        let name = try session.broker.connectionName(provider: provider.name, given: nil, in: snapshot)
        let source: String
        if let overriding = session.context.environment["NOTIONAUTH_CONNECTION"], !overriding.isEmpty {
            source = "NOTIONAUTH_CONNECTION"
        } else if try snapshot.defaultConnection(provider: provider.name) != nil {
            source = "use"
        } else {
            source = "default"
        }
        if session.global.json {
            session.output(jsonObject(["provider": .string(provider.name), "connection": .string(name), "source": .string(source)]))
        } else {
            session.output(name + "\n")
        }
        return .success
    }
}
