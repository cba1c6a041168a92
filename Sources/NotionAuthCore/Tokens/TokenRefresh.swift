/// Hands out access tokens that can be used now, refreshing them when they cannot.
///
/// Refresh rotates the token pair, so it happens inside the store's write lock: the first
/// process to need it refreshes and writes the new pair; the others wait for the lock,
/// see that the token they had was replaced, and use the new one without a request.
public struct TokenRefresh: Sendable {
    public let broker: Broker
    public let provider: ProviderDefinition

    public init(broker: Broker, provider: ProviderDefinition) {
        self.broker = broker
        self.provider = provider
    }

    /// Refresh ahead of a known expiry this many seconds away…
    static let margin: Int64 = 300

    /// …or, for tokens that live less than twice that, in the second half of their life, so
    /// a token refreshed a moment ago never looks due again (that would refresh in a loop).
    public static func isDue(_ connection: Connection, now: Int64) -> Bool {
        guard let expiresAt = connection.expiresAt else { return false }
        let lifetime = max(expiresAt - (connection.refreshedAt ?? connection.obtainedAt), 0)
        return expiresAt - now <= min(margin, lifetime / 2)
    }

    /// The connection, refreshed first if its token expires within five minutes.
    public func usableConnection(named name: String) throws(NotionauthError) -> Connection {
        guard let connection = try broker.store.connection(provider: provider.name, name: name) else {
            throw .notLoggedIn(provider: provider.name, connection: name)
        }
        return try usable(connection)
    }

    /// `connection` as read, or refreshed first if its token expires within five minutes.
    public func usable(_ connection: Connection) throws(NotionauthError) -> Connection {
        let name = connection.name
        switch connection.status {
        case .connected:
            guard let expiresAt = connection.expiresAt, Self.isDue(connection, now: broker.now) else { return connection }
            guard connection.refreshToken != nil else {
                if expiresAt > broker.now { return connection }
                throw .credentialUnusable(provider: provider.name, connection: name, status: Connection.Status.expired.rawValue)
            }
            return try refresh(replacing: connection)
        default:
            throw .credentialUnusable(provider: provider.name, connection: name, status: connection.status.rawValue)
        }
    }

    /// Called when the API refused `connection`'s token (401): refresh once if we can,
    /// else mark it invalid.
    public func afterRejection(of connection: Connection) throws(NotionauthError) -> Connection {
        guard connection.refreshToken != nil else {
            try mark(connection, as: .invalid)
            throw .credentialUnusable(provider: provider.name, connection: connection.name, status: Connection.Status.invalid.rawValue)
        }
        return try refresh(replacing: connection, force: true)
    }

    enum Outcome {
        case refreshed(Connection)
        case replacedByAnother(Connection)
        case revoked(String)
        case failed(NotionauthError, stillUsable: Connection?)
    }

    /// Room reserved on disk for a rotated pair and the token response kept with it, beyond
    /// the vault's current size. A larger answer is still written if the disk allows.
    static let reservedGrowth = 64 * 1024

    /// Refreshes `seen` under the lock unless another process already replaced its token.
    ///
    /// Whatever goes wrong short of the provider refusing the refresh token itself, a token
    /// that is still valid is handed out (with a warning) rather than refused.
    public func refresh(replacing seen: Connection, force: Bool = false) throws(NotionauthError) -> Connection {
        let now = broker.now
        let outcome: Outcome
        do {
            // The space for the new vault is taken before the provider is asked: once it has
            // rotated the pair, a full disk must not be able to lose the new one.
            outcome = try broker.store.update(reservingGrowth: Self.reservedGrowth) { (changes: inout CredentialChanges) throws(NotionauthError) -> Outcome in
                try refresh(seen, force: force, now: now, changes: &changes)
            }
        } catch let .noSpace(path) {
            let usable = seen.expiresAt.map { $0 > now } ?? !force
            guard usable else { throw .noSpace(path: path) }
            outcome = .failed(.failure("no disk space to save a new token next to \(path), so it was not refreshed"), stillUsable: seen)
        }
        switch outcome {
        case let .refreshed(connection), let .replacedByAnother(connection):
            return connection
        case let .revoked(message):
            broker.warn("\(provider.displayName) refused the refresh token (\(message)); the connection is marked revoked")
            throw .credentialUnusable(provider: provider.name, connection: seen.name, status: Connection.Status.revoked.rawValue)
        case let .failed(error, stillUsable?):
            broker.warn("could not refresh the \(provider.displayName) token (\(error.description)); using the current one, which is still valid")
            return stillUsable
        case let .failed(error, nil):
            throw error
        }
    }

    /// The part of a refresh that runs under the vault's lock, with the space reserved.
    private func refresh(_ seen: Connection, force: Bool, now: Int64, changes: inout CredentialChanges) throws(NotionauthError) -> Outcome {
        guard var current = try changes.connection(provider: provider.name, name: seen.name) else {
            throw .notLoggedIn(provider: provider.name, connection: seen.name)
        }
        if current.accessToken != seen.accessToken && current.status == .connected {
            return .replacedByAnother(current)
        }
        guard current.status == .connected || force, let refreshToken = current.refreshToken else {
            throw .credentialUnusable(provider: provider.name, connection: seen.name, status: current.effectiveStatus(now: now).rawValue)
        }
        // After a rejection (force) the API has already refused the token.
        let stillUsable = (current.expiresAt.map { $0 > now } ?? !force) ? current : nil
        let endpoint: TokenEndpoint
        let client: ClientCredentials
        do {
            client = try clientCredentials(for: current, changes: changes)
            let (resolved, fetched) = try IssuerMetadata.resolve(provider, client: client, context: broker.context)
            // Fresh metadata is kept with the stored client, under the lock already held.
            if let fetched, let stored = try changes.clientCredentials(provider: provider.name), stored.clientID == client.clientID {
                changes.store(IssuerMetadata.caching(fetched, in: stored, now: now))
            }
            endpoint = try TokenEndpoint.make(provider: resolved, client: client, context: broker.context)
        } catch {
            return .failed(error, stillUsable: stillUsable)
        }
        let parameters = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)]
        let answer: Result<JSONValue, RefusalBox>
        do {
            do {
                answer = try endpoint.send(parameters, client: client)
            } catch .noAnswer {
                // The provider may have rotated the pair and the answer is lost. Notion MCP
                // accepts the previous refresh token for one retry: ask once more with it
                // rather than find the connection revoked later.
                answer = try endpoint.send(parameters, client: client)
            }
        } catch {
            return .failed(error, stillUsable: stillUsable)
        }
        switch answer {
        case let .success(json):
            current.apply(tokenResponse: json, now: now)
            current.refreshedAt = now
            changes.store(current)
            return .refreshed(current)
        case let .failure(box) where box.refusal.code == "invalid_grant":
            current.status = .revoked
            changes.store(current)
            return .revoked(box.refusal.message)
        case let .failure(box):
            // A server error or rate limit is no verdict on the token; nor is a refused
            // client: either way a token that is still valid is handed out.
            let transient = box.refusal.status >= 500 || box.refusal.status == 429
            let error: NotionauthError = transient
                ? .network("\(provider.displayName) could not refresh the token just now: \(box.refusal.message)")
                : endpoint.error(for: box.refusal)
            return .failed(error, stillUsable: stillUsable)
        }
    }

    private func clientCredentials(for connection: Connection, changes: CredentialChanges) throws(NotionauthError) -> ClientCredentials {
        let stored = try changes.clientCredentials(provider: provider.name)
        guard let client = Self.client(for: connection, stored: stored, provider: provider, environment: broker.context.environment) else {
            throw .credentialUnusable(provider: provider.name, connection: connection.name, status: "expired and its client credentials are gone")
        }
        return client
    }

    /// The client a connection's token was issued to, for refresh, revoke and introspect:
    /// the one stored in the vault, or the provider's variables, when its id matches.
    public static func client(for connection: Connection, stored: ClientCredentials?, provider: ProviderDefinition, environment: [String: String]) -> ClientCredentials? {
        if let stored, connection.clientID == nil || stored.clientID == connection.clientID {
            return stored
        }
        if let idName = provider.clientIDEnvironment, let id = environment[idName], id == connection.clientID,
           let secretName = provider.clientSecretEnvironment, let secret = environment[secretName] {
            return ClientCredentials(provider: provider.name, clientID: id, clientSecret: secret)
        }
        return nil
    }

    public func mark(_ connection: Connection, as status: Connection.Status) throws(NotionauthError) {
        try broker.store.update { (changes: inout CredentialChanges) throws(NotionauthError) in
            guard var current = try changes.connection(provider: provider.name, name: connection.name),
                  current.accessToken == connection.accessToken else { return }
            current.status = status
            changes.store(current)
        }
    }
}
