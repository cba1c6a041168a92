import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthCLI

extension Sandbox {
    /// Points this sandbox at `databaseURL` (NOTIONAUTH_STORE) with `key` (NOTIONAUTH_VAULT_KEY).
    func useStore(_ databaseURL: String, key: String) {
        environment["NOTIONAUTH_STORE"] = databaseURL
        environment["NOTIONAUTH_VAULT_KEY"] = key
    }

    /// A key for NOTIONAUTH_VAULT_KEY: base64 of 32 random bytes.
    static func randomVaultKey() -> String {
        Sodium.randomBytes(32).withUnsafeBytes { Sodium.base64Encode($0) }
    }
}

extension Sandbox {
    /// Moves this sandbox's file vault into a fresh database on `server` (the shared one unless
    /// given) and points the sandbox there, with the vault's key as NOTIONAUTH_VAULT_KEY: what a
    /// team does when it leaves a copied vault for a shared store. Returns the database's URL.
    @discardableResult
    func moveToPostgres(on server: PostgresServer? = nil) async throws -> String {
        let database = try await (server ?? PostgresServer.shared()).makeDatabase()
        let key = try String(contentsOfFile: keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        environment["NOTIONAUTH_VAULT_KEY"] = key
        let initialised = try await run(["--store", database, "store", "init"])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        let copied = try await run(["store", "copy", "--from", "file:" + vaultPath, "--to", database])
        #expect(copied.status == 0, "\(copied.stderr)")
        useStore(database, key: key)
        return database
    }

    /// Another machine: a sandbox of its own (config directory, HOME) on the same store and
    /// key, its providers pointed where this one's are.
    func anotherMachine() throws -> Sandbox {
        let other = try Sandbox()
        for name in ["NOTIONAUTH_STORE", "NOTIONAUTH_VAULT_KEY", "NOTIONAUTH_NAMESPACE"] {
            other.environment[name] = environment[name]
        }
        if FileManager.default.fileExists(atPath: providersDirectory) {
            try FileManager.default.createDirectory(atPath: other.config, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.copyItem(atPath: providersDirectory, toPath: other.providersDirectory)
        }
        return other
    }
}

/// The stores the command tests run against: each command behaves the same on either.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case file
    case postgres

    var testDescription: String { rawValue }
}

extension Sandbox {
    /// A sandbox whose store is `kind`: the file vault, or a fresh database on the tests'
    /// PostgreSQL server, initialised, with a random NOTIONAUTH_VAULT_KEY.
    static func make(_ kind: StoreKind) async throws -> Sandbox {
        let sandbox = try Sandbox()
        guard kind == .postgres else { return sandbox }
        sandbox.useStore(try await PostgresServer.makeDatabase(), key: randomVaultKey())
        let initialised = try await sandbox.run(["store", "init"])
        try #require(initialised.status == 0, "\(initialised.stderr)")
        return sandbox
    }

    /// Changes one stored connection in place, in whichever store the sandbox uses.
    func editConnection(provider: String = "notion", name: String = "default", _ edit: @escaping @Sendable (inout Connection) -> Void) async throws {
        let store = Session(context: await contextFor(self), global: GlobalOptions()).store
        try await offTheConcurrencyPool {
            try store.update { (changes: inout CredentialChanges) throws(NotionauthError) in
                guard var connection = try changes.connection(provider: provider, name: name) else {
                    throw NotionauthError.notLoggedIn(provider: provider, connection: name)
                }
                edit(&connection)
                changes.store(connection)
            }
        }
    }

    /// Whether the store holds nothing at all: no vault file, or no rows in the database.
    func storeIsEmpty() async throws -> Bool {
        guard let database = environment["NOTIONAUTH_STORE"] else { return !FileManager.default.fileExists(atPath: vaultPath) }
        return try await PostgresServer.psql(databaseURL: database, sql: "SELECT count(*) FROM notionauth_records") == "0\n"
    }
}
