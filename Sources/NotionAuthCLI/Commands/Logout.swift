import NotionAuthCore
import NotionAuthLogin
public struct LogoutOptions: Equatable, Sendable {
    public var provider: String
    /// Nil: the provider's default (`use`, NOTIONAUTH_CONNECTION, else `default`).
    public var connection: String?
    public var all = false
    public var keepRemote = false
}

/// `notionauth logout PROVIDER [--connection NAME | --all] [--keep-remote]`
struct LogoutCommand: CommandDefinition {
    static let all = CommandSpec.Option("all", "every connection of the provider, and its stored client credentials")
    static let keepRemote = CommandSpec.Option("keep-remote", "delete locally only; do not revoke at the provider")
    static let spec = CommandSpec(
        name: "logout", synopsis: "logout PROVIDER [--connection NAME | --all] [--keep-remote]",
        summary: "revoke a connection's token at the provider and delete it",
        options: [CommandSpec.connection, all, keepRemote],
        minPositionals: 1, maxPositionals: 1,
        details: "A failed revocation still deletes the connection locally, with a warning.",
        operands: .provider)

    let options: LogoutOptions

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        var options = LogoutOptions(provider: arguments.firstPositional!)
        options.connection = try arguments.connection()
        options.all = arguments.flag(Self.all)
        options.keepRemote = arguments.flag(Self.keepRemote)
        if options.all && arguments.value(CommandSpec.connection) != nil {
            throw .usage("--all and --connection exclude each other", command: Self.spec.name)
        }
        self.options = options
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        try Self.run(options, session: session)
    }

    static func run(_ options: LogoutOptions, session: Session) throws(NotionauthError) -> ExitStatus {
        let provider = try session.provider(options.provider).definition
        let snapshot = try session.store.snapshot()
        let name = try session.broker.connectionName(provider: provider.name, given: options.connection, in: snapshot)
        let connections = options.all
            ? try snapshot.connections(provider: provider.name)
            : [try snapshot.connection(provider: provider.name, name: name)].compactMap { $0 }
        if connections.isEmpty && !options.all {
            throw .connectionNotFound(provider: provider.name, connection: name)
        }
        let chosen = try snapshot.defaultConnection(provider: provider.name)
        let forgetsChoice = chosen.map { chosen in options.all || connections.contains { $0.name == chosen } } ?? false
        let stored = try snapshot.clientCredentials(provider: provider.name)
        if !options.keepRemote {
            for connection in connections {
                let client = TokenRefresh.client(for: connection, stored: stored, provider: provider, environment: session.context.environment)
                revoke(connection, provider: provider, client: client, session: session)
            }
        }
        // Local deletion happens whatever the provider said: the user asked to be logged out.
        try session.store.update { (changes: inout CredentialChanges) throws(NotionauthError) in
            for connection in connections {
                try changes.removeConnection(provider: provider.name, name: connection.name)
            }
            if options.all { changes.removeClientCredentials(provider: provider.name) }
            if forgetsChoice { changes.setDefaultConnection(nil, provider: provider.name) }
        }
        let names = connections.map { "'\($0.name)'" }.joined(separator: ", ")
        session.info(connections.isEmpty
            ? "No \(provider.displayName) connections to remove." + (options.all ? " Client credentials forgotten." : "")
            : "Logged out of \(provider.displayName): removed \(names)" + (options.all ? " and the client credentials." : "."))
        if forgetsChoice {
            session.info("\(provider.name)'s default connection is '\(ConnectionName.defaultName)' again (it was '\(chosen ?? "")').")
        }
        return .success
    }

    /// Revokes at the provider; a failure is a warning, never a reason to keep the token.
    static func revoke(_ connection: Connection, provider: ProviderDefinition, client: ClientCredentials?, session: Session) {
        guard connection.kind == .oauth else {
            session.info("\(provider.displayName) tokens given with --with-token are revoked in the integration's settings (\(provider.docsURL ?? "the provider's dashboard")); removing it here only.")
            return
        }
        // An issuer's revocation endpoint comes from its (cached) metadata; without it, no revocation.
        let resolved = (try? IssuerMetadata.resolve(provider, client: client, context: session.context).0) ?? provider
        let revocationURL = provider.flows.contains(.dynamicRegistration)
            ? client.flatMap(AuthorizationServer.init(client:))?.revocationEndpoint
            : resolved.oauth?.revocationURL
        guard let revocationURL, let client else {
            session.warn("\(provider.displayName) cannot be asked to revoke connection '\(connection.name)' (no revocation endpoint or client); removing it here only")
            return
        }
        do {
            let endpoint = try TokenEndpoint.make(provider: resolved, client: client, context: session.context)
            // Revoking the refresh token ends the whole grant, access token included.
            let response = try endpoint.post(to: revocationURL, [("token", connection.refreshToken ?? connection.accessToken)], client: client)
            if !(200..<300).contains(response.status) {
                session.warn("\(provider.displayName) did not revoke connection '\(connection.name)': \(ProviderErrorMessage.describe(response)); removed here anyway")
            }
        } catch {
            session.warn("could not revoke connection '\(connection.name)' at \(provider.displayName): \(error.description); removed here anyway")
        }
    }
}
