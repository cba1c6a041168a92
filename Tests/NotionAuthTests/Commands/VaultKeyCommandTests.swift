import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthCLI

/// The vault's key from a command: NOTIONAUTH_KEY_COMMAND and `vault key-command`, with the
/// real binary and real helper processes.
@Suite struct VaultKeyCommandTests {
    /// A sandbox logged in with the key in its key file; returns the key's text, and with
    /// `removingKeyFile` removes the file so that only a command can give the key.
    func loggedIn(removingKeyFile: Bool = false) async throws -> (Sandbox, String) {
        let sandbox = try Sandbox()
        let login = try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: Sandbox.testToken + "\n")
        #expect(login.status == 0, "\(login.stderr)")
        let key = try String(contentsOfFile: sandbox.keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        if removingKeyFile { try FileManager.default.removeItem(atPath: sandbox.keyPath) }
        return (sandbox, key)
    }

    /// Writes `key` to a file of its own (0600) outside the config directory, for `cat`.
    func keyElsewhere(_ sandbox: Sandbox, _ key: String, name: String = "kept-key") throws -> String {
        let path = sandbox.root + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(key.utf8), attributes: [.posixPermissions: 0o600])
        return path
    }

    @Test func getOpensTheVaultWithTheKeyACommandPrints() async throws {
        let (sandbox, key) = try await loggedIn(removingKeyFile: true)
        #expect(try await sandbox.run(["get", "notion"]).status == 5)
        let get = try await sandbox.run(["get", "notion", "--field", "access_token"], environment: ["NOTIONAUTH_KEY_COMMAND": "printf '%s\\n' \(key)"])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(get.stdout == Sandbox.testToken + "\n")
        let status = try await sandbox.run(["--json", "vault"], environment: ["NOTIONAUTH_KEY_COMMAND": "cat " + keyElsewhere(sandbox, key)])
        let json = try JSONValue.parse(Array(status.stdout.utf8))
        #expect(json["vault"]?["key_source"] == .string("NOTIONAUTH_KEY_COMMAND"), "\(status.stdout)\(status.stderr)")
    }

    @Test func theCommandsOwnMessagesReachStandardErrorAndItsInputIsNotOurs() async throws {
        let (sandbox, key) = try await loggedIn(removingKeyFile: true)
        // It prints the key only if its standard input is empty: what is piped to notionauth
        // (a token, a passphrase) is not for it.
        let helper = "sh -c 'echo helper speaking >&2; test -z \"$(cat)\" && printf %s \(key)'"
        let get = try await sandbox.run(["get", "notion", "--field", "access_token"], stdin: "meant for notionauth\n", environment: ["NOTIONAUTH_KEY_COMMAND": helper])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(get.stdout == Sandbox.testToken + "\n")
        #expect(get.stderr == "helper speaking\n")
    }

    @Test func aCommandThatHangsIsStoppedAtTheTimeoutWithAClearError() async throws {
        let (sandbox, _) = try await loggedIn(removingKeyFile: true)
        let pidFile = sandbox.root + "/helper.pid"
        let started = Date()
        // setsid: no controlling terminal, so the helper has a process group of its own,
        // which is stopped whole (the background sleep too).
        let result = try await Binary.run("/usr/bin/setsid", ["-w", Binary.notionauth, "get", "notion"], environment: sandbox.environment.merging([
            "NOTIONAUTH_KEY_COMMAND": "sh -c 'sleep 60 & echo $! > \(pidFile); wait'",
            "NOTIONAUTH_KEY_COMMAND_TIMEOUT": "1",
        ]) { $1 }, directory: sandbox.root)
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.status == 5)
        #expect(result.stderr.contains("NOTIONAUTH_KEY_COMMAND (sh) did not finish within 1 s and was stopped"), "\(result.stderr)")
        #expect(result.stderr.contains("NOTIONAUTH_KEY_COMMAND_TIMEOUT"))
        #expect(elapsed < 10, "took \(elapsed) s")
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(Processes.ends(pid), "the helper's child survived")
    }

    @Test func aCommandThatFailsIsAnErrorNamingItsProgramAndStatus() async throws {
        let (sandbox, _) = try await loggedIn(removingKeyFile: true)
        let result = try await sandbox.run(["get", "notion"], environment: ["NOTIONAUTH_KEY_COMMAND": "sh -c 'exit 3' --secret-looking-argument"])
        #expect(result.status == 5)
        #expect(result.stderr == "error: cannot open the vault \(sandbox.vaultPath): NOTIONAUTH_KEY_COMMAND (sh) failed with exit status 3\n")
        let missing = try await sandbox.run(["get", "notion"], environment: ["NOTIONAUTH_KEY_COMMAND": "no-such-key-helper"])
        #expect(missing.status == 5)
        #expect(missing.stderr.contains("NOTIONAUTH_KEY_COMMAND (no-such-key-helper) cannot be run: no-such-key-helper is not in PATH"), "\(missing.stderr)")
    }

    @Test func aCommandThatPrintsSomethingElseIsAnErrorThatNeverShowsWhatItPrinted() async throws {
        let (sandbox, _) = try await loggedIn(removingKeyFile: true)
        let garbage = try await sandbox.run(["get", "notion"], environment: ["NOTIONAUTH_KEY_COMMAND": "printf GARBAGE-hunter2-not-a-key"])
        #expect(garbage.status == 5)
        #expect(garbage.stderr.contains("NOTIONAUTH_KEY_COMMAND (printf) printed something that is not a key"), "\(garbage.stderr)")
        #expect(!garbage.stderr.contains("hunter2"))
        let nothing = try await sandbox.run(["get", "notion"], environment: ["NOTIONAUTH_KEY_COMMAND": "true"])
        #expect(nothing.stderr.contains("NOTIONAUTH_KEY_COMMAND (true) printed nothing"), "\(nothing.stderr)")
        let endless = try await sandbox.run(["get", "notion"], environment: ["NOTIONAUTH_KEY_COMMAND": "yes"])
        #expect(endless.stderr.contains("NOTIONAUTH_KEY_COMMAND (yes) printed more than 4096 bytes"), "\(endless.stderr)")
        let other = Sandbox.randomVaultKey()
        let wrong = try await sandbox.run(["get", "notion"], environment: ["NOTIONAUTH_KEY_COMMAND": "printf %s \(other)"])
        #expect(wrong.status == 5)
        #expect(wrong.stderr.contains("the key that NOTIONAUTH_KEY_COMMAND (printf) printed does not open it"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains(other))
        let shell = try await sandbox.run(["get", "notion"], environment: ["NOTIONAUTH_KEY_COMMAND": "pass show notionauth | head -1"])
        #expect(shell.status == 5)
        #expect(shell.stderr.contains("NOTIONAUTH_KEY_COMMAND cannot be read: `|` means something to a shell"), "\(shell.stderr)")
        let timeout = try await sandbox.run(["get", "notion"], environment: ["NOTIONAUTH_KEY_COMMAND": "true", "NOTIONAUTH_KEY_COMMAND_TIMEOUT": "soon"])
        #expect(timeout.stderr.contains("NOTIONAUTH_KEY_COMMAND_TIMEOUT is not a number of seconds"), "\(timeout.stderr)")
    }

    @Test func theEnvironmentKeyComesBeforeTheCommandWhichComesBeforeWhatIsBesideTheVault() async throws {
        let (sandbox, key) = try await loggedIn()
        // NOTIONAUTH_VAULT_KEY: the command is never run.
        let first = try await sandbox.run(["get", "notion", "--field", "access_token"], environment: ["NOTIONAUTH_VAULT_KEY": key, "NOTIONAUTH_KEY_COMMAND": "false"])
        #expect(first.status == 0, "\(first.stderr)")
        // NOTIONAUTH_KEY_COMMAND: the key file is not read.
        let second = try await sandbox.run(["get", "notion"], environment: ["NOTIONAUTH_KEY_COMMAND": "false"])
        #expect(second.status == 5)
        // The stored command, over the key file.
        #expect(try await sandbox.run(["vault", "key-command", "cat " + keyElsewhere(sandbox, key)]).status == 0)
        try key.write(toFile: sandbox.keyPath, atomically: true, encoding: .utf8)
        chmod(sandbox.keyPath, 0o600)
        try FileManager.default.removeItem(atPath: sandbox.root + "/kept-key")
        let third = try await sandbox.run(["get", "notion"])
        #expect(third.status == 5)
        #expect(third.stderr.contains("the key command in \(sandbox.vaultPath).key-command (cat) failed with exit status 1"), "\(third.stderr)")
    }

    @Test func vaultKeyCommandStoresTheChoiceAndRemovesTheKeyFile() async throws {
        let (sandbox, key) = try await loggedIn()
        let kept = try keyElsewhere(sandbox, key, name: "my key")
        let moved = try await sandbox.run(["vault", "key-command", "cat '\(kept)'"])
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(moved.stderr.contains("the key file \(sandbox.keyPath) was removed"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.keyPath))
        let choice = sandbox.vaultPath + ".key-command"
        #expect(try String(contentsOfFile: choice, encoding: .utf8) == "cat '\(kept)'\n")
        #expect(try FileManager.default.attributesOfItem(atPath: choice)[.posixPermissions] as? Int == 0o600)

        let get = try await sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(get.stdout == Sandbox.testToken + "\n", "\(get.stderr)")
        let status = try JSONValue.parse(Array(try await sandbox.run(["--json", "vault"]).stdout.utf8))
        #expect(status["vault"]?["key_source"] == .string(choice))
        #expect(status["vault"]?["key_command"] == .string("cat '\(kept)'"))
        let store = try JSONValue.parse(Array(try await sandbox.run(["store", "status", "--json"]).stdout.utf8))
        #expect(store["store"]?["key_source"] == .string(choice))

        // Others may not change what notionauth runs.
        chmod(choice, 0o622)
        let unsafe = try await sandbox.run(["get", "notion"])
        #expect(unsafe.status == 5)
        #expect(unsafe.stderr.contains("refusing to use \(choice): others can write it"), "\(unsafe.stderr)")
        chmod(choice, 0o600)

        // And back: the key file again, the choice gone, the key still the same.
        let back = try await sandbox.run(["vault", "keyfile"])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.stderr.contains("The vault's key is now in the key file"))
        #expect(back.stderr.contains("still where cat keeps it"))
        #expect(!FileManager.default.fileExists(atPath: choice))
        #expect(try String(contentsOfFile: sandbox.keyPath, encoding: .utf8) == key + "\n")
        try FileManager.default.removeItem(atPath: kept)
        #expect(try await sandbox.run(["get", "notion", "--field", "access_token"]).stdout == Sandbox.testToken + "\n")
        let again = try await sandbox.run(["vault", "keyfile"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already protected by the key file"))
    }

    @Test func vaultKeyCommandRefusesACommandThatPrintsAnotherKey() async throws {
        let (sandbox, _) = try await loggedIn()
        let result = try await sandbox.run(["vault", "key-command", "printf %s \(Sandbox.randomVaultKey())"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("the key that printf prints does not open the vault"), "\(result.stderr)")
        #expect(result.stderr.contains("Nothing was changed"))
        #expect(FileManager.default.fileExists(atPath: sandbox.keyPath))
        #expect(!FileManager.default.fileExists(atPath: sandbox.vaultPath + ".key-command"))
        let usage = try await sandbox.run(["vault", "key-command"])
        #expect(usage.status == 2)
        let syntax = try await sandbox.run(["vault", "key-command", "pass show x | head -1"])
        #expect(syntax.status == 2)
        #expect(syntax.stderr.contains("cannot read the key command: `|`"), "\(syntax.stderr)")
        #expect(try await sandbox.run(["vault", "verify", "extra"]).status == 2)
    }

    @Test func vaultKeyCommandKeepsTheKeyFileOfACommandThatReadsIt() async throws {
        let (sandbox, key) = try await loggedIn()
        let result = try await sandbox.run(["vault", "key-command", "cat \(sandbox.keyPath)"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cat does not print the vault's key once the key file \(sandbox.keyPath) is out of the way"), "\(result.stderr)")
        #expect(result.stderr.contains("Nothing was changed"))
        #expect(try String(contentsOfFile: sandbox.keyPath, encoding: .utf8) == key + "\n")
        #expect(!FileManager.default.fileExists(atPath: sandbox.vaultPath + ".key-command"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.keyPath + ".checking"))
        #expect(try await sandbox.run(["get", "notion", "--field", "access_token"]).stdout == Sandbox.testToken + "\n")
    }

    @Test func aPassphraseVaultMovedToAKeyCommandIsEncryptedUnderItsKey() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.loginWithToken().status == 0)
        let pass = ["NOTIONAUTH_PASSPHRASE": "correct horse battery"]
        #expect(await sandbox.runInProcess(["vault", "passphrase"], environment: pass).status == 0)
        let key = Sandbox.randomVaultKey()
        let moved = try await sandbox.run(["vault", "key-command", "printf %s \(key)"], environment: pass)
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(moved.stderr.contains("protected by a key instead of the passphrase"))
        let get = try await sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(get.stdout == Sandbox.testToken + "\n", "\(get.stderr)")
        #expect(try await sandbox.run(["get", "notion"], environment: ["NOTIONAUTH_VAULT_KEY": key]).status == 0)
        // And to a passphrase again: the stored command goes with the key.
        #expect(try await sandbox.run(["vault", "passphrase"], environment: pass).status == 0)
        #expect(!FileManager.default.fileExists(atPath: sandbox.vaultPath + ".key-command"))
    }

    @Test func aNewVaultIsCreatedUnderTheKeyTheCommandPrints() async throws {
        let sandbox = try Sandbox()
        let key = Sandbox.randomVaultKey()
        let moved = try await sandbox.run(["vault", "key-command", "printf %s \(key)"])
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(moved.stderr.contains("Created an empty vault"))
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: Sandbox.testToken).status == 0)
        #expect(!FileManager.default.fileExists(atPath: sandbox.keyPath))
        #expect(try await sandbox.run(["get", "notion"], environment: ["NOTIONAUTH_VAULT_KEY": key]).status == 0)
    }

    @Test func runDoesNotPassTheKeyCommandToItsChild() async throws {
        let (sandbox, key) = try await loggedIn(removingKeyFile: true)
        let env = try await sandbox.run(["run", "--", "env"], environment: ["NOTIONAUTH_KEY_COMMAND": "printf %s \(key)"])
        #expect(env.status == 0, "\(env.stderr)")
        #expect(env.stdout.contains("NOTION_ACCESS_TOKEN="))
        #expect(!env.stdout.contains("NOTIONAUTH_KEY_COMMAND"))
    }

    /// Both stores wrap their keys with the vault's key sources: a key command works for either.
    @Test(arguments: StoreKind.allCases)
    func aKeyCommandOpensEitherStore(store: StoreKind) async throws {
        let sandbox = try await Sandbox.make(store)
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: Sandbox.testToken).status == 0)
        let key: String
        if let environmentKey = sandbox.environment.removeValue(forKey: "NOTIONAUTH_VAULT_KEY") {
            key = environmentKey
        } else {
            key = try String(contentsOfFile: sandbox.keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            try FileManager.default.removeItem(atPath: sandbox.keyPath)
        }
        sandbox.environment["NOTIONAUTH_KEY_COMMAND"] = "printf %s \(key)"
        let get = try await sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(get.stdout == Sandbox.testToken + "\n", "\(get.stderr)")
        let status = try await sandbox.run(["store", "status", "--json"])
        #expect(try JSONValue.parse(Array(status.stdout.utf8))["store"]?["key_source"] == .string("NOTIONAUTH_KEY_COMMAND"), "\(status.stdout)\(status.stderr)")
        sandbox.environment["NOTIONAUTH_KEY_COMMAND"] = "printf %s \(Sandbox.randomVaultKey())"
        let wrong = try await sandbox.run(["get", "notion"])
        #expect(wrong.status == 5)
        #expect(wrong.stderr.contains("NOTIONAUTH_KEY_COMMAND (printf)"), "\(wrong.stderr)")
    }
}
