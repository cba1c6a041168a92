/// The file vault as a `CredentialStore`: one encrypted file per person and machine
/// (notionauth-vault(5)), the default store.
public struct FileVaultStore: ManagedStore {
    public let vault: Vault

    public init(vault: Vault) {
        self.vault = vault
    }

    public var location: String { vault.path }

    public func initialize() throws(NotionauthError) -> String {
        "The file vault \(vault.path) needs no initialisation; the first login creates it."
    }

    public func statusFields() throws(NotionauthError) -> [(String, JSONValue)] {
        let open = try vault.open()
        var fields: [(String, JSONValue)] = [("location", .string(vault.path)), ("kind", .string("file")), ("exists", .bool(open.exists))]
        guard open.exists else { return fields }
        fields.append(("format_version", .int(Int64(VaultFormat.version))))
        switch open.protection {
        case .passphrase?: fields.append(("key_source", .string("passphrase")))
        default:
            let source = try vault.keySource()
            fields.append(("key_source", .string(vault.name(of: source))))
            if let command = source.command { fields.append(("key_command", .string(command.text))) }
        }
        fields.append(("connections", .int(Int64(try open.connectionCount))))
        fields.append(("clients", .int(Int64(try open.clientProviders().count))))
        return fields
    }

    public func snapshot() throws(NotionauthError) -> any CredentialSnapshot {
        try vault.open()
    }

    public func update<T>(reservingGrowth: Int?, _ body: (inout CredentialChanges) throws(NotionauthError) -> T) throws(NotionauthError) -> T {
        let path = vault.path
        return try vault.update(reservingGrowth: reservingGrowth) { (contents: inout VaultContents) throws(NotionauthError) -> T in
            var changes = CredentialChanges(base: VaultContentsSnapshot(contents: contents, path: path))
            let result = try body(&changes)
            for (key, connection) in changes.changedConnections {
                if let connection {
                    contents.store(connection)
                } else {
                    contents.removeConnection(provider: key.provider, name: key.name)
                }
            }
            for (provider, client) in changes.changedClients {
                if let client {
                    contents.store(client)
                } else {
                    contents.removeClientCredentials(provider: provider)
                }
            }
            for (provider, connection) in changes.changedDefaults {
                contents.setDefaultConnection(connection, provider: provider)
            }
            return result
        }
    }
}

extension OpenVault: CredentialSnapshot {
    public func connectionKeys() throws(NotionauthError) -> [ConnectionKey] {
        try recordNames.compactMap(ConnectionKey.init(recordName:))
    }

    public func clientProviders() throws(NotionauthError) -> [String] {
        try recordNames.filter { $0.hasPrefix("client/") }.map { String($0.dropFirst("client/".count)) }
    }
}

/// The decrypted records an `update` starts from, read as a snapshot.
struct VaultContentsSnapshot: CredentialSnapshot {
    let contents: VaultContents
    let path: String

    func connection(provider: String, name: String) throws(NotionauthError) -> Connection? {
        try contents.connection(provider: provider, name: name, path: path)
    }

    func connectionKeys() throws(NotionauthError) -> [ConnectionKey] {
        contents.records.keys.compactMap(ConnectionKey.init(recordName:)).sorted()
    }

    func clientCredentials(provider: String) throws(NotionauthError) -> ClientCredentials? {
        try contents.clientCredentials(provider: provider, path: path)
    }

    func clientProviders() throws(NotionauthError) -> [String] {
        contents.records.keys.filter { $0.hasPrefix("client/") }.map { String($0.dropFirst("client/".count)) }.sorted()
    }

    func defaultConnection(provider: String) throws(NotionauthError) -> String? {
        try contents.defaultConnection(provider: provider, path: path)
    }

    func defaultProviders() throws(NotionauthError) -> [String] {
        contents.records.keys.filter { $0.hasPrefix("default/") }.map { String($0.dropFirst("default/".count)) }.sorted()
    }
}

extension ConnectionKey {
    /// The key of record `connection/PROVIDER/NAME`; nil for any other record.
    public init?(recordName: String) {
        let parts = recordName.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "connection" else { return nil }
        self.init(provider: String(parts[1]), name: String(parts[2]))
    }
}
