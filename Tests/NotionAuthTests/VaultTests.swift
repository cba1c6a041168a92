import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

@Suite struct VaultTests {
    @Test func filesAre0600InA0700Directory() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.loginWithToken().status == 0)
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
        }
        #expect(try mode(sandbox.config) == 0o700)
        #expect(try mode(sandbox.vaultPath) == 0o600)
        #expect(try mode(sandbox.keyPath) == 0o600)
    }

    @Test func theVaultHoldsNoPlaintextToken() async throws {
        let sandbox = try Sandbox()
        let token = "ntn_plaintext_should_not_appear_0001"
        #expect(await sandbox.loginWithToken(token).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: sandbox.vaultPath))
        #expect(bytes.range(of: Data(token.utf8)) == nil)
        #expect(bytes.range(of: Data("notion".utf8)) == nil)
    }

    @Test func anyFlippedByteMakesGetExitWith5AndLeavesTheFileAlone() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.loginWithToken().status == 0)
        let original = try Data(contentsOf: URL(fileURLWithPath: sandbox.vaultPath))
        for offset in 0..<original.count {
            var tampered = original
            tampered[offset] ^= 0x80
            try tampered.write(to: URL(fileURLWithPath: sandbox.vaultPath))
            let result = await sandbox.runInProcess(["get", "notion", "--field", "access_token"])
            #expect(result.status == 5, "byte \(offset)")
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.contains("cannot open the vault"))
            // A write attempt on a damaged vault must fail too, not replace it.
            #expect(await sandbox.loginWithToken(connection: "other").status == 5)
            #expect(try Data(contentsOf: URL(fileURLWithPath: sandbox.vaultPath)) == tampered)
        }
    }

    @Test func emptyAndGarbageFilesAreErrorsNeverAnEmptyVault() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.loginWithToken().status == 0)
        for contents in [Data(), Data("hello".utf8), Data(repeating: 0, count: 500)] {
            try contents.write(to: URL(fileURLWithPath: sandbox.vaultPath))
            let result = await sandbox.runInProcess(["list"])
            #expect(result.status == 5)
            #expect(result.stderr.contains(sandbox.vaultPath))
        }
    }

    @Test func wrongKeyIsExit5() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.loginWithToken().status == 0)
        let result = await sandbox.runInProcess(["get", "notion"], environment: ["NOTIONAUTH_VAULT_KEY": Data(repeating: 9, count: 32).base64EncodedString()])
        #expect(result.status == 5)
        #expect(result.stderr.contains("NOTIONAUTH_VAULT_KEY does not open it"))
        let malformed = await sandbox.runInProcess(["get", "notion"], environment: ["NOTIONAUTH_VAULT_KEY": "not-base64"])
        #expect(malformed.status == 5)
        #expect(malformed.stderr.contains("not base64 of 32 bytes"))
    }

    @Test func looseKeyFilePermissionsAreRefused() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.loginWithToken().status == 0)
        for mode in [0o640, 0o604, 0o644] {
            chmod(sandbox.keyPath, mode_t(mode))
            let result = await sandbox.runInProcess(["get", "notion"])
            #expect(result.status == 5)
            #expect(result.stderr.contains("chmod 600"))
        }
        chmod(sandbox.keyPath, 0o600)
        #expect(await sandbox.runInProcess(["get", "notion"]).status == 0)
    }

    @Test func missingKeyFileIsExit5WithTheRemedy() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.loginWithToken().status == 0)
        try FileManager.default.removeItem(atPath: sandbox.keyPath)
        let result = await sandbox.runInProcess(["get", "notion"])
        #expect(result.status == 5)
        #expect(result.stderr.contains("key file"))
        #expect(result.stderr.contains("NOTIONAUTH_VAULT_KEY"))
    }

    @Test func environmentKeyCreatesAVaultWithoutAKeyFile() async throws {
        let sandbox = try Sandbox()
        let env = ["NOTIONAUTH_VAULT_KEY": TestKeys.fixed]
        let result = await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_ci_token_abcdefghijkl", environment: env)
        #expect(result.status == 0)
        #expect(!FileManager.default.fileExists(atPath: sandbox.keyPath))
        #expect(await sandbox.runInProcess(["get", "notion", "--field", "access_token"], environment: env).stdout == "ntn_ci_token_abcdefghijkl\n")
        #expect(await sandbox.runInProcess(["get", "notion"]).status == 5)
    }

    @Test func aCrashedWriterLeavesTheOldVaultReadable() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.loginWithToken().status == 0)
        // A writer that died after writing its temp file but before the rename.
        try Data("half-written".utf8).write(to: URL(fileURLWithPath: sandbox.config + "/.vault.tmp-AbCdEf"))
        #expect(await sandbox.runInProcess(["get", "notion", "--field", "access_token"]).status == 0)
        #expect(await sandbox.loginWithToken(connection: "second").status == 0)
        #expect(await sandbox.runInProcess(["get", "notion", "--connection", "second", "--field", "status"]).stdout == "connected\n")
    }

    @Test func writersKilledAtRandomMomentsNeverDamageTheVault() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.loginWithToken(connection: "keep").status == 0)
        var completed: [String] = ["keep"]
        for round in 0..<40 {
            let name = "c\(round)"
            let process = try sandbox.start(["login", "notion", "--with-token", "--no-verify", "--connection", name], stdin: "ntn_kill_test_token_\(round)_abcdefgh")
            try await Task.sleep(nanoseconds: UInt64.random(in: 0...15_000_000))
            kill(process.processIdentifier, SIGKILL)
            try await Binary.wait(process, timeoutSeconds: 60)
            if process.terminationReason == .exit && process.terminationStatus == 0 { completed.append(name) }
            let list = await sandbox.runInProcess(["--json", "list"])
            #expect(list.status == 0, "round \(round): \(list.stderr)")
            for survivor in completed {
                #expect(await sandbox.runInProcess(["get", "notion", "--connection", survivor, "--field", "status"]).stdout == "connected\n", "round \(round), \(survivor)")
            }
        }
    }

    @Test func concurrentWritersAllLand() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.loginWithToken().status == 0)
        let count = 20
        let processes = try (0..<count).map { i in
            try sandbox.start(["login", "notion", "--with-token", "--no-verify", "--connection", "w\(i)"], stdin: "ntn_concurrent_token_\(i)_abcdef")
        }
        for process in processes {
            try await Binary.wait(process, timeoutSeconds: 60)
            #expect(process.terminationStatus == 0)
        }
        let list = await sandbox.runInProcess(["--json", "list"])
        let json = try JSONValue.parse(Array(list.stdout.utf8))
        guard case let .array(providers)? = json["providers"] else { Issue.record("no providers"); return }
        let notion = providers.first { $0["name"] == .string("notion") }
        guard case let .array(connections)? = notion?["connections"] else { Issue.record("no connections"); return }
        #expect(connections.count == count + 1)
        for i in 0..<count {
            let result = await sandbox.runInProcess(["get", "notion", "--connection", "w\(i)", "--field", "access_token"])
            #expect(result.stdout == "ntn_concurrent_token_\(i)_abcdef\n")
        }
    }

    @Test func aVaultReachedThroughASymlinkIsWrittenWhereItPoints() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.loginWithToken(connection: "one").status == 0)
        let link = sandbox.root + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: sandbox.vaultPath)
        #expect(await sandbox.runInProcess(["--vault", link, "login", "notion", "--with-token", "--no-verify", "--connection", "two"], stdin: "ntn_through_the_link_abcdef").status == 0)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == sandbox.vaultPath)
        #expect(await sandbox.runInProcess(["get", "notion", "--connection", "two", "--field", "status"]).stdout == "connected\n")
    }

    @Test func aRecordWhoseFieldsNameAnotherConnectionIsRefusedByGetAndListAlike() async throws {
        let sandbox = try Sandbox()
        let impostor = Connection(provider: "notion", name: "other", kind: .token, accessToken: "ntn_x", obtainedAt: 1_790_000_000)
        try await sandbox.storeRecords([Connection.recordName(provider: "notion", connection: "work"): impostor])
        for arguments in [["get", "notion", "--connection", "work"], ["list"], ["vault", "verify"]] {
            let result = await sandbox.runInProcess(arguments)
            #expect(result.status == 5, "\(arguments): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains("record 'connection/notion/work' holds the fields of 'connection/notion/other'"))
        }
    }
}
