import Foundation
import Testing
@testable import NotionAuthCore

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
