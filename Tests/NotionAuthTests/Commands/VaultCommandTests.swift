import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// `vault`: its status, `passphrase`, `keyfile` and `verify`.
@Suite struct VaultCommandTests {
    @Test func passphraseProtectionRoundTripsAndFailsFastWithoutASource() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.loginWithToken().status == 0)
        let pass = ["NOTIONAUTH_PASSPHRASE": "hunter2 but longer"]
        #expect(await sandbox.runInProcess(["vault", "passphrase"], environment: pass).status == 0)
        #expect(!FileManager.default.fileExists(atPath: sandbox.keyPath))

        let status = await sandbox.runInProcess(["--json", "vault"], environment: pass)
        let json = try JSONValue.parse(Array(status.stdout.utf8))
        #expect(json["vault"]?["protection"] == .string("passphrase"))
        #expect(json["vault"]?["kdf"] == .string("argon2id13"))

        #expect(await sandbox.runInProcess(["get", "notion", "--field", "access_token"], environment: pass).stdout == Sandbox.testToken + "\n")
        let wrong = await sandbox.runInProcess(["get", "notion"], environment: ["NOTIONAUTH_PASSPHRASE": "nope"])
        #expect(wrong.status == 5)
        let none = await sandbox.runInProcess(["get", "notion"])
        #expect(none.status == 5)
        #expect(none.stderr.contains("NOTIONAUTH_PASSPHRASE"))

        #expect(await sandbox.runInProcess(["vault", "keyfile"], environment: pass).status == 0)
        #expect(FileManager.default.fileExists(atPath: sandbox.keyPath))
        #expect(await sandbox.runInProcess(["get", "notion", "--field", "access_token"]).stdout == Sandbox.testToken + "\n")
    }

    @Test func aPassphraseReadFromNOTIONAUTH_PASSPHRASE_FDOpensTheVault() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.loginWithToken().status == 0)
        #expect(await sandbox.runInProcess(["vault", "passphrase"], environment: ["NOTIONAUTH_PASSPHRASE": "from fd"]).status == 0)
        // The real binary, with the passphrase on descriptor 0 of the child.
        let result = try await sandbox.run(["get", "notion", "--field", "access_token"], stdin: "from fd\n", environment: ["NOTIONAUTH_PASSPHRASE_FD": "0"])
        #expect(result.status == 0)
        #expect(result.stdout == Sandbox.testToken + "\n")
    }

    @Test func vaultVerifyDecryptsEveryRecordAndSaysHowMany() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.loginWithToken(connection: "a").status == 0)
        #expect(await sandbox.loginWithToken(connection: "b").status == 0)
        let result = await sandbox.runInProcess(["vault", "verify"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("2 records"))
    }

    @Test func vaultPassphraseOnANewVaultSaysItCreatedOne() async throws {
        let sandbox = try Sandbox()
        let result = await sandbox.runInProcess(["vault", "passphrase"], environment: ["NOTIONAUTH_PASSPHRASE": "correct horse"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("Created an empty vault"))
        #expect(!result.stderr.contains("key file"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.keyPath))
    }

    @Test func vaultVerifyParsesClientRecordsToo() async throws {
        let sandbox = try Sandbox()
        let vault = await sandbox.vault()
        try vault.update { (contents: inout VaultContents) throws(NotionauthError) in
            contents.records[ClientCredentials.recordName(provider: "notion")] = ClientCredentials(provider: "other", clientID: "c", clientSecret: "s").fields.bytes
        }
        let result = await sandbox.runInProcess(["vault", "verify"])
        #expect(result.status == 5)
        #expect(result.stderr.contains("record 'client/notion' holds the fields of 'client/other'"))
    }
}
