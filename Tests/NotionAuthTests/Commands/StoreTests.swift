import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthCLI

/// `store init`, `store status`, `store copy`, and the everyday commands against a
/// PostgreSQL store, running the real binary.
@Suite struct StoreTests {
    @Test func storeInitIsIdempotentAndStatusShowsNoPassword() async throws {
        let database = try await PostgresServer.makeDatabase()
        let sandbox = try Sandbox()
        sandbox.useStore(database, key: Sandbox.randomVaultKey())
        let first = try await sandbox.run(["store", "init"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("Created"))
        let second = try await sandbox.run(["store", "init"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("up to date"))
        #expect(try await PostgresServer.psql(databaseURL: database, sql: "SELECT count(*) FROM notionauth_schema_version").hasPrefix("1"))
        let status = try await sandbox.run(["store", "status", "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        let json = try JSONValue.parse(Array(status.stdout.utf8))
        #expect(json["store"]?["schema_version"] == .int(1))
        #expect(json["store"]?["connections"] == .int(0))
        let password = try #require(URLComponents(string: database)?.password)
        #expect(!status.stdout.contains(password))
        #expect(json["store"]?["location"]?.stringValue?.contains("@127.0.0.1") == true)
    }

    @Test func aStoreWithoutSchemaIsAnErrorNotAnEmptyStore() async throws {
        let database = try await PostgresServer.makeDatabase()
        let sandbox = try Sandbox()
        sandbox.useStore(database, key: Sandbox.randomVaultKey())
        let result = try await sandbox.run(["list"])
        #expect(result.status == 5)
        #expect(result.stderr.contains("store init"))
    }

    @Test func loginGetListLogoutWorkAgainstAPostgresStore() async throws {
        let database = try await PostgresServer.makeDatabase()
        let sandbox = try Sandbox()
        let key = Sandbox.randomVaultKey()
        sandbox.environment["NOTIONAUTH_VAULT_KEY"] = key
        let store = ["--store", database]
        let initialised = try await sandbox.run(store + ["store", "init"])
        #expect(initialised.status == 0)
        #expect(initialised.stderr.contains("the password in --store is visible to other users in the process list"))
        // From the environment, where no other user can read it: no warning.
        let quiet = try await sandbox.run(["store", "status"], environment: ["NOTIONAUTH_STORE": database])
        #expect(quiet.status == 0 && !quiet.stderr.contains("warning"), "\(quiet.stderr)")
        let login = try await sandbox.run(store + ["login", "notion", "--with-token", "--no-verify", "--connection", "work"], stdin: Sandbox.testToken + "\n")
        #expect(login.status == 0, "\(login.stderr)")
        let get = try await sandbox.run(store + ["get", "notion", "--connection", "work", "--field", "access_token"])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(get.stdout == Sandbox.testToken + "\n")
        let list = try await sandbox.run(store + ["list"])
        #expect(list.stdout.contains("work"))
        // Nothing went to the file vault.
        #expect(!FileManager.default.fileExists(atPath: sandbox.vaultPath))
        let logout = try await sandbox.run(store + ["logout", "notion", "--connection", "work", "--keep-remote"])
        #expect(logout.status == 0, "\(logout.stderr)")
        let after = try await sandbox.run(store + ["get", "notion", "--connection", "work"])
        #expect(after.status == 4)
        #expect(try await PostgresServer.psql(databaseURL: database, sql: "SELECT count(*) FROM notionauth_records").hasPrefix("0"))
    }

    @Test func anUnreachableDatabaseIsExitFiveWithinTheBoundNamingHostAndPort() async throws {
        let sandbox = try Sandbox()
        sandbox.useStore("postgres://someone:pw@127.0.0.1:1/db?sslmode=disable", key: Sandbox.randomVaultKey())
        let started = Date()
        let result = try await sandbox.run(["get", "notion"])
        #expect(result.status == 5)
        #expect(result.stderr.contains("127.0.0.1:1"))
        #expect(!result.stderr.contains(":pw@"))
        #expect(Date().timeIntervalSince(started) < 10)
        // A host that never answers: the connect timeout bounds the wait.
        sandbox.environment["NOTIONAUTH_STORE"] = "postgres://someone@10.255.255.1:5432/db?sslmode=disable&connect_timeout=2"
        let blackholeStart = Date()
        let silent = try await sandbox.run(["get", "notion"])
        #expect(silent.status == 5)
        #expect(silent.stderr.contains("10.255.255.1:5432"))
        #expect(Date().timeIntervalSince(blackholeStart) < 10)
    }

    @Test func storeCopyRoundTripFileToPostgresToFileKeepsEveryRecord() async throws {
        let database = try await PostgresServer.makeDatabase()
        let sandbox = try Sandbox()
        let key = Sandbox.randomVaultKey()
        sandbox.environment["NOTIONAUTH_VAULT_KEY"] = key
        for name in ["default", "work", "home"] {
            let result = await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify", "--connection", name], stdin: "ntn_token_\(name)\n")
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(try await sandbox.run(["--store", database, "store", "init"]).status == 0)
        let out = try await sandbox.run(["store", "copy", "--from", "file:" + sandbox.vaultPath, "--to", database])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stderr.contains("Copied 3 connections"))
        let back = sandbox.root + "/copied-vault"
        let home = try await sandbox.run(["store", "copy", "--from", database, "--to", "file:" + back])
        #expect(home.status == 0, "\(home.stderr)")
        for name in ["default", "work", "home"] {
            let original = try await sandbox.run(["get", "notion", "--connection", name, "--json", "--show-secrets"])
            let viaPostgres = try await sandbox.run(["--store", database, "get", "notion", "--connection", name, "--json", "--show-secrets"])
            let copied = try await sandbox.run(["--store", "file:" + back, "get", "notion", "--connection", name, "--json", "--show-secrets"])
            #expect(original.status == 0 && viaPostgres.status == 0 && copied.status == 0, "\(viaPostgres.stderr) \(copied.stderr)")
            #expect(original.stdout == viaPostgres.stdout)
            #expect(original.stdout == copied.stdout)
        }
        // Byte for byte after decryption: the vault's own records.
        let first = try Vault(path: sandbox.vaultPath, keys: VaultKeys(environmentKey: key, passphrase: { (_: Bool) throws(NotionauthError) -> SecureBytes in throw NotionauthError.failure("no") })).open().allRecords()
        let second = try Vault(path: back, keys: VaultKeys(environmentKey: key, passphrase: { (_: Bool) throws(NotionauthError) -> SecureBytes in throw NotionauthError.failure("no") })).open().allRecords()
        #expect(first == second)
    }

    /// libpq's password sources: PGPASSWORD, else ~/.pgpass (only when 0600); the password
    /// is never printed, whichever it came from.
    @Test func thePasswordComesFromPGPASSWORDOrPgpassAndIsNeverPrinted() async throws {
        let database = try await PostgresServer.makeDatabase()
        var components = try #require(URLComponents(string: database))
        let password = try #require(components.password)
        components.password = nil
        let bare = try #require(components.string)
        let sandbox = try Sandbox()
        sandbox.useStore(bare, key: Sandbox.randomVaultKey())
        sandbox.environment["PGPASSFILE"] = nil

        let viaEnvironment = try await sandbox.run(["store", "init"], environment: ["PGPASSWORD": password])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.stderr)")

        let pgpass = sandbox.root + "/home/.pgpass"
        let port = try #require(components.port)
        try "# a comment\n127.0.0.1:\(port):*:\(components.user ?? ""):\(password)\n".write(toFile: pgpass, atomically: true, encoding: .utf8)
        chmod(pgpass, 0o600)
        let viaFile = try await sandbox.run(["store", "status"])
        #expect(viaFile.status == 0, "\(viaFile.stderr)")

        chmod(pgpass, 0o644)
        let loose = try await sandbox.run(["store", "status"])
        #expect(loose.status == 5)
        #expect(loose.stderr.contains("chmod 600"), "\(loose.stderr)")
        #expect(loose.stderr.contains("password"), "\(loose.stderr)")
        for result in [viaEnvironment, viaFile, loose] {
            #expect(!result.stdout.contains(password) && !result.stderr.contains(password))
        }
    }

    /// sslmode against a server with TLS (its certificate made for the name localhost by
    /// lib.sh): each mode verifies what libpq's does, and a certificate that is not trusted,
    /// or not for the host the URL names, is refused.
    @Test func tlsIsNegotiatedAndVerifiedAsSslmodeAsks() async throws {
        let ca = try #require(try PostgresServer.shared().ca, "the tests' PostgreSQL server has no TLS")
        let database = try await PostgresServer.makeDatabase()
        let byName = database.replacingOccurrences(of: "@127.0.0.1:", with: "@localhost:")
        let sandbox = try Sandbox()
        let key = Sandbox.randomVaultKey()
        func status(_ url: String) async throws -> RunResult {
            sandbox.useStore(url, key: key)
            return try await sandbox.run(["store", "status"])
        }
        let root = "sslrootcert=" + ca
        #expect(try await sandbox.run(["--store", byName + "?sslmode=verify-full&" + root, "store", "init"], environment: ["NOTIONAUTH_VAULT_KEY": key]).status == 0)
        for url in [database + "?sslmode=require", database + "?sslmode=prefer", database + "?sslmode=verify-ca&" + root, byName + "?sslmode=verify-full&" + root] {
            let result = try await status(url)
            #expect(result.status == 0, "\(url): \(result.stderr)")
        }
        // The system's roots do not know this certificate.
        let untrusted = try await status(byName + "?sslmode=verify-full")
        #expect(untrusted.status == 5, "\(untrusted.stderr)")
        #expect(untrusted.stderr.contains("TLS handshake with PostgreSQL at localhost"), "\(untrusted.stderr)")
        #expect(untrusted.stderr.contains("sslrootcert"))
        // The certificate names localhost: verify-full refuses it at 127.0.0.1, where
        // verify-ca (the CA only) accepts it.
        let wrongName = try await status(database + "?sslmode=verify-full&" + root)
        #expect(wrongName.status == 5, "\(wrongName.stderr)")
        #expect(wrongName.stderr.contains("not for the host 127.0.0.1"), "\(wrongName.stderr)")
    }

    @Test func tlsDemandedOfAServerWithoutItIsExitFiveSayingSo() async throws {
        try await PostgresServer.withPrivate(tls: false) { server in
            let database = try await server.makeDatabase()
            let sandbox = try Sandbox()
            sandbox.useStore(database + "?sslmode=require", key: Sandbox.randomVaultKey())
            let result = try await sandbox.run(["store", "status"])
            #expect(result.status == 5)
            #expect(result.stderr.contains("does not offer TLS"), "\(result.stderr)")
            #expect(result.stderr.contains("sslmode=require"))
        }
    }

    @Test(arguments: [
        ("postgres://h/db?sslmode=sometimes", "sslmode 'sometimes'"),
        ("postgres://h:notaport/db", "port"),
        ("postgres://h/d%zzb", "%-escape"),
        ("mysql://h/db", "unknown store 'mysql:"),
    ])
    func aMalformedStoreURLIsAUsageErrorNamingWhatIsWrong(url: String, says: String) async throws {
        let sandbox = try Sandbox()
        sandbox.useStore(url, key: Sandbox.randomVaultKey())
        let result = try await sandbox.run(["list"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(says), "\(result.stderr)")
    }
}
