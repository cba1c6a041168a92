@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthCLI

/// The PostgreSQL store's sealing and locking, against a real server: the database never
/// holds a secret, rows open only where they were written, and one refresh serves every
/// machine.
@Suite struct PostgresStoreTests {
    /// A sandbox on a fresh database with one token connection, `default`, and a second, `work`.
    private func storeWithTwoConnections() async throws -> (Sandbox, String) {
        let database = try await PostgresServer.makeDatabase()
        let sandbox = try Sandbox()
        sandbox.useStore(database, key: Sandbox.randomVaultKey())
        #expect(try await sandbox.run(["store", "init"]).status == 0)
        for name in ["default", "work"] {
            let login = try await sandbox.run(["login", "notion", "--with-token", "--no-verify", "--connection", name], stdin: "ntn_secret_\(name)_0123456789\n")
            #expect(login.status == 0, "\(login.stderr)")
        }
        return (sandbox, database)
    }

    @Test func nothingInTheDatabaseIsPlaintext() async throws {
        let (_, database) = try await storeWithTwoConnections()
        let dump = try await PostgresServer.dump(databaseURL: database)
        #expect(dump.contains("connection/notion/default"))
        #expect(!dump.contains("ntn_secret_"))
        let hex = try await PostgresServer.psql(databaseURL: database, sql: "SELECT encode(sealed, 'hex') || encode(nonce, 'hex') FROM notionauth_records")
        let tokenHex = Array("ntn_secret_".utf8).map { String(format: "%02x", $0) }.joined()
        #expect(!hex.contains(tokenHex))
    }

    @Test func aSwappedRowIsExitFiveNamingIt() async throws {
        let (sandbox, database) = try await storeWithTwoConnections()
        try await PostgresServer.psql(databaseURL: database, sql: """
            UPDATE notionauth_records a SET nonce = b.nonce, sealed = b.sealed FROM notionauth_records b
            WHERE a.name = 'connection/notion/default' AND b.name = 'connection/notion/work'
            """)
        let result = try await sandbox.run(["get", "notion"])
        #expect(result.status == 5)
        #expect(result.stderr.contains("connection/notion/default"))
    }

    @Test func anEditedRowIsExitFiveNamingIt() async throws {
        let (sandbox, database) = try await storeWithTwoConnections()
        try await PostgresServer.psql(databaseURL: database, sql: """
            UPDATE notionauth_records SET sealed = overlay(sealed placing '\\x00'::bytea from 5 for 1)
            WHERE name = 'connection/notion/work'
            """)
        let result = try await sandbox.run(["get", "notion", "--connection", "work"])
        #expect(result.status == 5)
        #expect(result.stderr.contains("connection/notion/work"))
        // The other row still opens.
        #expect(try await sandbox.run(["get", "notion"]).status == 0)
    }

    @Test func aRowMovedToAnotherNamespaceIsExitFiveNamingIt() async throws {
        let (sandbox, database) = try await storeWithTwoConnections()
        // Namespace "other" exists with its own key (the same key sources).
        let other = try await sandbox.run(["--namespace", "other", "login", "notion", "--with-token", "--no-verify"], stdin: "ntn_other_token\n")
        #expect(other.status == 0, "\(other.stderr)")
        try await PostgresServer.psql(databaseURL: database, sql: "DELETE FROM notionauth_records WHERE namespace = 'other'")
        try await PostgresServer.psql(databaseURL: database, sql: "UPDATE notionauth_records SET namespace = 'other' WHERE name = 'connection/notion/work'")
        let result = try await sandbox.run(["--namespace", "other", "get", "notion", "--connection", "work"])
        #expect(result.status == 5)
        #expect(result.stderr.contains("connection/notion/work"))
    }

    @Test func namespaceAsKeyCannotOpenNamespaceB() async throws {
        let database = try await PostgresServer.makeDatabase()
        let teamA = try Sandbox()
        teamA.useStore(database, key: Sandbox.randomVaultKey())
        let teamB = try Sandbox()
        teamB.useStore(database, key: Sandbox.randomVaultKey())
        teamA.environment["NOTIONAUTH_NAMESPACE"] = "a"
        teamB.environment["NOTIONAUTH_NAMESPACE"] = "b"
        #expect(try await teamA.run(["store", "init"]).status == 0)
        #expect(try await teamA.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_team_a\n").status == 0)
        #expect(try await teamB.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_team_b\n").status == 0)
        #expect(try await teamB.run(["get", "notion", "--field", "access_token"]).stdout == "ntn_team_b\n")
        let intruder = try await teamA.run(["--namespace", "b", "get", "notion", "--field", "access_token"])
        #expect(intruder.status == 5)
        #expect(intruder.stderr.contains("namespace 'b'"))
        #expect(intruder.stdout.isEmpty)
    }

    /// A namespace whose key is wrapped by a passphrase (Argon2id, its parameters in the key
    /// row): any machine with the passphrase opens it, a wrong one opens nothing.
    @Test func aPassphraseNamespaceOpensWithThePassphraseOnly() async throws {
        let database = try await PostgresServer.makeDatabase()
        let first = try Sandbox()
        first.environment["NOTIONAUTH_STORE"] = database
        first.environment["NOTIONAUTH_PASSPHRASE"] = "correct horse battery staple"
        #expect(try await first.run(["store", "init"]).status == 0)
        let login = try await first.run(["--namespace", "team", "login", "notion", "--with-token", "--no-verify"], stdin: "ntn_passphrase_team\n")
        #expect(login.status == 0, "\(login.stderr)")
        let status = try await first.run(["--namespace", "team", "store", "status", "--json"])
        let store = try JSONValue.parse(Array(status.stdout.utf8))["store"]
        #expect(store?["key_source"] == .string("passphrase"), "\(status.stdout)")
        #expect(store?["kdf"] == .string("argon2id13"))

        let second = try first.anotherMachine()
        second.environment["NOTIONAUTH_PASSPHRASE"] = "correct horse battery staple"
        let get = try await second.run(["--namespace", "team", "get", "notion", "--field", "access_token"])
        #expect(get.stdout == "ntn_passphrase_team\n", "\(get.stderr)")

        second.environment["NOTIONAUTH_PASSPHRASE"] = "wrong horse"
        let wrong = try await second.run(["--namespace", "team", "get", "notion", "--field", "access_token"])
        #expect(wrong.status == 5)
        #expect(wrong.stderr.contains("namespace 'team'"), "\(wrong.stderr)")
        #expect(wrong.stdout.isEmpty)
        #expect(!(try await PostgresServer.dump(databaseURL: database)).contains("ntn_passphrase_team"))
    }
}
