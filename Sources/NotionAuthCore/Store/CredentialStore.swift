/// Where connections and client credentials are kept. Commands, the token refresh and
/// anything else that hands out credentials use only this; the file vault (`FileVaultStore`)
/// is the first implementation. What only one kind of store has (the vault's key file and
/// passphrase, its permission checks, `vault verify`) stays with that store's own type.
///
/// Adding a store: implement `snapshot()` (reads that open the store once) and `update`
/// (a locked read-modify-write that never loses a change made by another process), and
/// seal records with `RecordSeal` so that the store never holds a secret in the clear.
public protocol CredentialStore: Sendable {
    /// Where the store is, for messages: a path, or a database URL without its password.
    var location: String { get }

    /// The store as it is now, opened once: a command that reads one connection decrypts
    /// only that one.
    func snapshot() throws(NotionauthError) -> any CredentialSnapshot

    /// Runs `body` under the store's write lock on what is stored now, then stores what it
    /// changed, atomically: other processes wait, and a failure stores nothing.
    ///
    /// With `reservingGrowth`, the store first makes sure that a write of that many more
    /// bytes can succeed, and throws `.noSpace` without running `body` when it cannot: a body
    /// that obtains something it cannot ask for twice (a rotated token pair) can then
    /// always be stored.
    func update<T>(reservingGrowth: Int?, _ body: (inout CredentialChanges) throws(NotionauthError) -> T) throws(NotionauthError) -> T
}

/// A store with a schema of its own to create and report on (`store init`, `store status`).
public protocol ManagedStore: CredentialStore {
    /// Creates or migrates what the store needs, idempotently; what was done, for people.
    func initialize() throws(NotionauthError) -> String
    /// What `store status` shows, in order: location (never a password), schema version,
    /// key source, counts of connections and clients.
    func statusFields() throws(NotionauthError) -> [(String, JSONValue)]
}

extension CredentialStore {
    public func update<T>(_ body: (inout CredentialChanges) throws(NotionauthError) -> T) throws(NotionauthError) -> T {
        try update(reservingGrowth: nil, body)
    }

    public func connection(provider: String, name: String) throws(NotionauthError) -> Connection? {
        try snapshot().connection(provider: provider, name: name)
    }

    public func clientCredentials(provider: String) throws(NotionauthError) -> ClientCredentials? {
        try snapshot().clientCredentials(provider: provider)
    }
}

/// A provider and connection name: what a store can list without decrypting anything.
public struct ConnectionKey: Hashable, Comparable, Sendable {
    public var provider: String
    public var name: String

    public init(provider: String, name: String) {
        self.provider = provider
        self.name = name
    }

    public static func < (a: ConnectionKey, b: ConnectionKey) -> Bool {
        (a.provider, a.name) < (b.provider, b.name)
    }
}

/// Reads of a store as it was when opened.
public protocol CredentialSnapshot {
    func connection(provider: String, name: String) throws(NotionauthError) -> Connection?
    /// Every connection's key, in provider and name order, without decrypting any.
    func connectionKeys() throws(NotionauthError) -> [ConnectionKey]
    /// Every connection (of one provider, when given), decrypted, in key order.
    func connections(provider: String?) throws(NotionauthError) -> [Connection]
    func clientCredentials(provider: String) throws(NotionauthError) -> ClientCredentials?
    /// The providers that have stored client credentials, in order (`store copy`).
    func clientProviders() throws(NotionauthError) -> [String]
    /// The connection chosen with `use` for `provider`, if any.
    func defaultConnection(provider: String) throws(NotionauthError) -> String?
    /// Every provider with a chosen default connection, in order (`store copy`).
    func defaultProviders() throws(NotionauthError) -> [String]
}

extension CredentialSnapshot {
    public func connections() throws(NotionauthError) -> [Connection] {
        try connections(provider: nil)
    }

    /// One record at a time, through the keys; a store that can read a provider's records in
    /// one go (the open vault) has its own.
    public func connections(provider: String?) throws(NotionauthError) -> [Connection] {
        var result: [Connection] = []
        for key in try connectionKeys() where provider == nil || key.provider == provider {
            if let connection = try connection(provider: key.provider, name: key.name) { result.append(connection) }
        }
        return result
    }
}

/// What an `update` body sees and changes: the stored state, with its own changes on top.
public struct CredentialChanges {
    private let base: any CredentialSnapshot
    public private(set) var changedConnections: [ConnectionKey: Connection?] = [:]
    public private(set) var changedClients: [String: ClientCredentials?] = [:]
    /// By provider: the connection chosen with `use`, or nil when the choice is removed.
    public private(set) var changedDefaults: [String: String?] = [:]

    public init(base: any CredentialSnapshot) {
        self.base = base
    }

    public var isEmpty: Bool { changedConnections.isEmpty && changedClients.isEmpty && changedDefaults.isEmpty }

    public func connection(provider: String, name: String) throws(NotionauthError) -> Connection? {
        if let changed = changedConnections[ConnectionKey(provider: provider, name: name)] { return changed }
        return try base.connection(provider: provider, name: name)
    }

    public func connectionKeys() throws(NotionauthError) -> [ConnectionKey] {
        var keys = Set(try base.connectionKeys())
        for (key, connection) in changedConnections {
            if connection == nil { keys.remove(key) } else { keys.insert(key) }
        }
        return keys.sorted()
    }

    public mutating func store(_ connection: Connection) {
        changedConnections[ConnectionKey(provider: connection.provider, name: connection.name)] = .some(connection)
    }

    /// False when there was no such connection.
    @discardableResult
    public mutating func removeConnection(provider: String, name: String) throws(NotionauthError) -> Bool {
        guard try connection(provider: provider, name: name) != nil else { return false }
        changedConnections[ConnectionKey(provider: provider, name: name)] = .some(nil)
        return true
    }

    public func clientCredentials(provider: String) throws(NotionauthError) -> ClientCredentials? {
        if let changed = changedClients[provider] { return changed }
        return try base.clientCredentials(provider: provider)
    }

    public mutating func store(_ client: ClientCredentials) {
        changedClients[client.provider] = .some(client)
    }

    public mutating func removeClientCredentials(provider: String) {
        changedClients[provider] = .some(nil)
    }

    public func defaultConnection(provider: String) throws(NotionauthError) -> String? {
        if let changed = changedDefaults[provider] { return changed }
        return try base.defaultConnection(provider: provider)
    }

    /// Makes `connection` the provider's default; nil (or `default` itself) removes the choice.
    public mutating func setDefaultConnection(_ connection: String?, provider: String) {
        changedDefaults[provider] = .some(connection == ConnectionName.defaultName ? nil : connection)
    }
}
