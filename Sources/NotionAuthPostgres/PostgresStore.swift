import NotionAuthCore
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// Connections and client credentials in PostgreSQL, sealed on the client
/// (notionauth-store(5)): the database holds only ciphertext, each record bound to the
/// store's id, its namespace and its name, under the namespace's data key, which only the
/// vault's key sources unwrap.
public struct PostgresStore: ManagedStore {
    let url: PostgresURL
    let namespace: String
    let vault: Vault
    let context: Context
    let link: PostgresLink

    /// The openers `notionauth-postgres` installs: postgres:// and postgresql://.
    public static var openers: StoreOpeners {
        StoreOpeners(schemes: StoreOpeners.postgresSchemes) { (request: StoreRequest) throws(NotionauthError) -> any CredentialStore in
            try PostgresStore(request)
        }
    }

    public init(_ request: StoreRequest) throws(NotionauthError) {
        let stderr = request.context.stderr
        url = try PostgresURL(request.url, environment: request.context.environment) { stderr.write("warning: \($0)\n") }
        if url.passwordInURL, request.url != request.context.environment["NOTIONAUTH_STORE"] {
            // From the command line, then: argv is readable by every user of the machine.
            stderr.write("warning: the password in --store is visible to other users in the process list; use PGPASSWORD, ~/.pgpass or NOTIONAUTH_STORE\n")
        }
        guard !request.namespace.isEmpty, request.namespace.utf8.count <= 200 else {
            throw .usage("a namespace is 1 to 200 bytes of text", command: nil)
        }
        namespace = request.namespace
        vault = request.vault
        context = request.context
        link = PostgresLink(url: url)
    }

    public var location: String { url.location }

    // MARK: Reads

    public func snapshot() throws(NotionauthError) -> any CredentialSnapshot {
        let state = try readState(forUpdate: false)
        return PostgresSnapshot(state: state, location: location)
    }

    /// The store id, the namespace's key row and its records, as stored now.
    private func readState(forUpdate: Bool) throws(NotionauthError) -> StoreState {
        let head: [PostgresRow]
        do {
            if forUpdate {
                // The namespace's key row is its lock: writers on any machine queue here.
                try link.query("SELECT 1 FROM notionauth_namespace_keys WHERE namespace = \(namespace) FOR UPDATE")
            }
            head = try link.query("""
                SELECT (SELECT coalesce(max(version), 0) FROM notionauth_schema_version), s.store_id,
                       k.protection, k.kdf_opslimit, k.kdf_memlimit, k.kdf_salt, k.nonce, k.wrapped_key
                FROM notionauth_store s LEFT JOIN notionauth_namespace_keys k ON k.namespace = \(namespace)
                """)
        } catch let error where PostgresLink.isServerError(error, sqlState: "42P01") {
            throw StoreSchema.missing(link)
        }
        guard let row = head.first else { throw StoreSchema.missing(link) }
        let columns: (Int, ByteBuffer, String?, Int64?, Int64?, ByteBuffer?, ByteBuffer?, ByteBuffer?)
        do {
            columns = try row.decode((Int, ByteBuffer, String?, Int64?, Int64?, ByteBuffer?, ByteBuffer?, ByteBuffer?).self)
        } catch {
            throw .store(location: location, reason: "its notionauth_store or notionauth_namespace_keys row has unexpected column types")
        }
        guard columns.0 <= StoreSchema.latestVersion else { throw StoreSchema.newer(columns.0, link) }
        let storeID = Array(columns.1.readableBytesView)
        var keyRow: KeyRow?
        if let protection = columns.2 {
            guard let nonce = columns.6, let wrapped = columns.7 else {
                throw .store(location: location, reason: "the key row of namespace '\(namespace)' is incomplete")
            }
            keyRow = try KeyRow(
                namespace: namespace, protection: protection, opsLimit: columns.3, memLimit: columns.4,
                salt: columns.5.map { Array($0.readableBytesView) }, nonce: Array(nonce.readableBytesView),
                wrappedKey: Array(wrapped.readableBytesView), location: location)
        }
        var records: [String: SealedRow] = [:]
        if keyRow != nil {
            for row in try link.query("SELECT name, nonce, sealed FROM notionauth_records WHERE namespace = \(namespace)") {
                guard let (name, nonce, sealed) = try? row.decode((String, ByteBuffer, ByteBuffer).self) else {
                    throw .store(location: location, reason: "a row of notionauth_records in namespace '\(namespace)' has unexpected column types")
                }
                records[name] = SealedRow(nonce: Array(nonce.readableBytesView), sealed: Array(sealed.readableBytesView))
            }
        }
        let sealing = StoreSealing(storeID: storeID, namespace: namespace)
        let dataKey = try keyRow.map { (row: KeyRow) throws(NotionauthError) in try unwrap(row, sealing: sealing) }
        return StoreState(sealing: sealing, keyRow: keyRow, dataKey: dataKey, records: records)
    }

    private func unwrap(_ row: KeyRow, sealing: StoreSealing) throws(NotionauthError) -> SecureBytes {
        let keyEncryptionKey = try vault.keyEncryptionKey(for: row.protection)
        guard let key = sealing.unwrap(row, with: keyEncryptionKey) else {
            let source: String
            switch row.protection {
            case .key: source = (try? vault.keySource()).map(vault.phrase(for:)) ?? "the key"
            case .passphrase: source = "the passphrase"
            }
            throw .store(location: location, reason: "\(source) does not open the key of namespace '\(namespace)' (another key, or the key row was altered)")
        }
        return key
    }

    // MARK: Writes

    public func update<T>(reservingGrowth: Int?, _ body: (inout CredentialChanges) throws(NotionauthError) -> T) throws(NotionauthError) -> T {
        // The database's space is not ours to reserve; what matters is that the server is
        // there and the lock is held before the body asks a provider for anything.
        var committed = false
        defer { if !committed { link.rollback() } }
        let state = try beginLocked()
        var changes = CredentialChanges(base: PostgresSnapshot(state: state, location: location))
        let result = try body(&changes)
        if changes.isEmpty {
            try link.commit()
            committed = true
            return result
        }
        do throws(NotionauthError) {
            try write(changes, over: state, read: state)
            try link.commit()
            committed = true
        } catch {
            // The body may have obtained something it cannot ask for twice (a rotated token
            // pair), and the provider has already forgotten the old one: a server restarted
            // or a connection dropped between its answer and our commit must not lose it.
            committed = true
            try saveAfterLostCommit(changes, read: state, firstError: error)
        }
        return result
    }

    /// How long a write whose commit failed keeps trying to save it (a server restart or a
    /// failover takes seconds).
    static let recoverySeconds = 30.0

    /// Saves `changes` in a new transaction after the first one failed, reconnecting as
    /// needed, until `recoverySeconds` have passed. Each record is written only where it still
    /// holds what `read` saw: the first commit may have reached the server after all, or
    /// another process may have written since; either way what is there is newer than ours.
    private func saveAfterLostCommit(_ changes: CredentialChanges, read: StoreState, firstError: NotionauthError) throws(NotionauthError) {
        let deadline = ContinuousClock.now + .seconds(Self.recoverySeconds)
        var lastError = firstError
        var pause = 0.2
        while ContinuousClock.now < deadline {
            link.close()
            do throws(NotionauthError) {
                let now = try beginLocked()
                try write(changes, over: now, read: read)
                try link.commit()
                context.stderr.write("warning: the connection to \(url.hostAndPort) failed while saving (\(firstError.description)); saved after reconnecting\n")
                return
            } catch {
                lastError = error
                link.rollback()
            }
            usleep(UInt32(pause * 1_000_000))
            pause = min(pause * 2, 2)
        }
        throw .store(location: location, reason: """
            the change could not be saved within \(Int(Self.recoverySeconds)) s (\(lastError.description)). If a token was just refreshed, \
            the new pair is lost; Notion MCP accepts the previous refresh token for one more refresh, so run the command again; \
            if that fails, log in again
            """)
    }

    /// Seconds a write waits for another process's lock on the namespace.
    static let lockTimeoutSeconds = 60

    /// Begins a transaction that waits at most `lockTimeoutSeconds` for a lock, and takes the
    /// namespace's.
    private func beginLocked() throws(NotionauthError) -> StoreState {
        try link.begin()
        try link.query("SET LOCAL lock_timeout = '\(unescaped: String(Self.lockTimeoutSeconds))s'")
        return try lockedState()
    }

    /// Inside the transaction: the namespace's key row locked (FOR UPDATE), created first if
    /// the namespace is new, and its records read.
    private func lockedState() throws(NotionauthError) -> StoreState {
        var state: StoreState
        do {
            state = try readState(forUpdate: true)
        } catch let error where PostgresLink.isServerError(error, sqlState: "55P03") {
            throw lockTimeout()
        }
        if state.keyRow == nil {
            let (row, key) = try newKeyRow(sealing: state.sealing)
            let inserted = try link.query("""
                INSERT INTO notionauth_namespace_keys (namespace, protection, kdf_opslimit, kdf_memlimit, kdf_salt, nonce, wrapped_key)
                VALUES (\(namespace), \(row.protectionName), \(row.opsLimit), \(row.memLimit), \(row.salt.map { ByteBuffer(bytes: $0) }),
                        \(ByteBuffer(bytes: row.nonce)), \(ByteBuffer(bytes: row.wrappedKey)))
                ON CONFLICT (namespace) DO NOTHING RETURNING 1
                """)
            if inserted.isEmpty {
                // Another process created it first: use theirs.
                state = try readState(forUpdate: true)
            } else {
                state.keyRow = row
                state.dataKey = key
            }
        }
        return state
    }

    private func lockTimeout() -> NotionauthError {
        .store(location: location, reason: "another process held the lock on namespace '\(namespace)' for more than \(Self.lockTimeoutSeconds) s; try again")
    }

    /// A key row for a new namespace: wrapped by NOTIONAUTH_VAULT_KEY or NOTIONAUTH_KEY_COMMAND
    /// when set, else by a passphrase when NOTIONAUTH_PASSPHRASE or NOTIONAUTH_PASSPHRASE_FD is
    /// set (Argon2id, its parameters in the row), else by the vault's key: its stored key
    /// command's, or its key file's.
    private func newKeyRow(sealing: StoreSealing) throws(NotionauthError) -> (KeyRow, SecureBytes) {
        let environment = context.environment
        let usePassphrase = vault.keys.environmentKey == nil && vault.keys.environmentCommand == nil
            && !((environment["NOTIONAUTH_PASSPHRASE"] ?? "").isEmpty && (environment["NOTIONAUTH_PASSPHRASE_FD"] ?? "").isEmpty)
        let protection: VaultFormat.Protection
        let keyEncryptionKey: SecureBytes
        if usePassphrase {
            let kdf = VaultFormat.KDFParameters(
                opsLimit: UInt32(Sodium.interactiveOpsLimit), memLimit: Sodium.interactiveMemLimit,
                salt: Sodium.randomBytes(Sodium.saltBytes))
            protection = .passphrase(kdf)
            keyEncryptionKey = try vault.keyEncryptionKey(for: protection)
        } else {
            protection = .key
            keyEncryptionKey = try vault.keyForKeyProtection()
        }
        let dataKey = SecureBytes.random(count: Sodium.keyBytes)
        return (sealing.wrap(dataKey, protection: protection, with: keyEncryptionKey), dataKey)
    }

    /// Writes `changes` into the namespace as it stands in `state`, skipping any record whose
    /// row is no longer what `read` saw (the same state unless a lost commit is retried).
    private func write(_ changes: CredentialChanges, over state: StoreState, read: StoreState) throws(NotionauthError) {
        guard let dataKey = state.dataKey else { return }
        var upserts: [(String, [UInt8])] = []
        var deletions: [String] = []
        for (key, connection) in changes.changedConnections {
            if let connection {
                upserts.append((RecordCoding.name(of: connection), RecordCoding.plaintext(of: connection)))
            } else {
                deletions.append(Connection.recordName(provider: key.provider, connection: key.name))
            }
        }
        for (provider, client) in changes.changedClients {
            if let client {
                upserts.append((RecordCoding.name(of: client), RecordCoding.plaintext(of: client)))
            } else {
                deletions.append(ClientCredentials.recordName(provider: provider))
            }
        }
        for (provider, connection) in changes.changedDefaults {
            if let connection {
                let choice = ConnectionDefault(provider: provider, connection: connection)
                upserts.append((RecordCoding.name(of: choice), RecordCoding.plaintext(of: choice)))
            } else {
                deletions.append(ConnectionDefault.recordName(provider: provider))
            }
        }
        upserts.removeAll { state.records[$0.0] != read.records[$0.0] }
        deletions.removeAll { state.records[$0] != read.records[$0] }
        for (name, plaintext) in upserts {
            let row = state.sealing.seal(plaintext, name: name, key: dataKey)
            try link.query("""
                INSERT INTO notionauth_records (namespace, name, nonce, sealed, updated_at)
                VALUES (\(namespace), \(name), \(ByteBuffer(bytes: row.nonce)), \(ByteBuffer(bytes: row.sealed)), now())
                ON CONFLICT (namespace, name) DO UPDATE SET nonce = EXCLUDED.nonce, sealed = EXCLUDED.sealed, updated_at = now()
                """)
        }
        for name in deletions {
            try link.query("DELETE FROM notionauth_records WHERE namespace = \(namespace) AND name = \(name)")
        }
    }

    // MARK: store init / status

    public func initialize() throws(NotionauthError) -> String {
        let applied = try StoreSchema.initialize(link)
        if applied.isEmpty { return "The store \(location) is up to date (schema version \(StoreSchema.latestVersion))." }
        return "Created the notionauth schema in \(location) (version \(StoreSchema.latestVersion))."
    }

    public func statusFields() throws(NotionauthError) -> [(String, JSONValue)] {
        guard let version = try StoreSchema.version(link) else { throw StoreSchema.missing(link) }
        var fields: [(String, JSONValue)] = [
            ("location", .string(location)), ("kind", .string("postgresql")), ("namespace", .string(namespace)),
            ("schema_version", .int(Int64(version))),
        ]
        let state = try readState(forUpdate: false)
        switch state.keyRow?.protection {
        case nil:
            fields.append(("key_source", .string("none yet (the first write creates the namespace's key)")))
        case .key?:
            let source = try vault.keySource()
            fields.append(("key_source", .string(vault.name(of: source))))
            if let command = source.command { fields.append(("key_command", .string(command.text))) }
        case let .passphrase(kdf)?:
            fields += [("key_source", .string("passphrase")), ("kdf", .string("argon2id13")),
                       ("kdf_opslimit", .int(Int64(kdf.opsLimit))), ("kdf_memlimit_bytes", .int(Int64(kdf.memLimit)))]
        }
        fields.append(("connections", .int(Int64(state.records.keys.filter { $0.hasPrefix("connection/") }.count))))
        fields.append(("clients", .int(Int64(state.records.keys.filter { $0.hasPrefix("client/") }.count))))
        return fields
    }
}

struct SealedRow: Equatable {
    let nonce: [UInt8]
    let sealed: [UInt8]
}

/// What one read of the namespace found, still sealed.
struct StoreState {
    let sealing: StoreSealing
    var keyRow: KeyRow?
    var dataKey: SecureBytes?
    let records: [String: SealedRow]
}

/// The namespace as read once; each record is opened when asked for.
struct PostgresSnapshot: CredentialSnapshot {
    let state: StoreState
    let location: String

    private func open(_ name: String) throws(NotionauthError) -> [UInt8]? {
        guard let row = state.records[name], let key = state.dataKey else { return nil }
        guard let plaintext = state.sealing.open(row, name: name, key: key) else {
            throw .store(location: location, reason: "row '\(name)' of namespace '\(state.sealing.namespace)' does not open: it was edited, swapped with another row or moved from another namespace or store")
        }
        return plaintext
    }

    func connection(provider: String, name: String) throws(NotionauthError) -> Connection? {
        let recordName = Connection.recordName(provider: provider, connection: name)
        guard let bytes = try open(recordName) else { return nil }
        return try RecordCoding.connection(bytes, name: recordName, location: location)
    }

    func connectionKeys() throws(NotionauthError) -> [ConnectionKey] {
        state.records.keys.compactMap(ConnectionKey.init(recordName:)).sorted()
    }

    func clientCredentials(provider: String) throws(NotionauthError) -> ClientCredentials? {
        let name = ClientCredentials.recordName(provider: provider)
        guard let bytes = try open(name) else { return nil }
        return try RecordCoding.client(bytes, name: name, location: location)
    }

    func clientProviders() throws(NotionauthError) -> [String] {
        state.records.keys.filter { $0.hasPrefix("client/") }.map { String($0.dropFirst("client/".count)) }.sorted()
    }

    func defaultConnection(provider: String) throws(NotionauthError) -> String? {
        let name = ConnectionDefault.recordName(provider: provider)
        guard let bytes = try open(name) else { return nil }
        return try RecordCoding.connectionDefault(bytes, name: name, location: location).connection
    }

    func defaultProviders() throws(NotionauthError) -> [String] {
        state.records.keys.filter { $0.hasPrefix("default/") }.map { String($0.dropFirst("default/".count)) }.sorted()
    }
}
