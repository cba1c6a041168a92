import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

@Suite struct CompletionTests {
    static let token = "ntn_completion_must_never_show_this_9f3k"

    /// Connections notion/default, notion/work and notion-mcp/agent.
    func loggedIn() async throws -> Sandbox {
        let sandbox = try Sandbox()
        for name in ["default", "work"] {
            let login = await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify", "--connection", name], stdin: Self.token + "\n")
            #expect(login.status == 0)
        }
        // notion-mcp takes no pasted token, so its connection goes into the vault directly.
        let vault = await sandbox.vault()
        try vault.update { (contents: inout VaultContents) throws(NotionauthError) in
            contents.store(Connection(provider: "notion-mcp", name: "agent", kind: .oauth, accessToken: Self.token, obtainedAt: 1_790_000_000))
        }
        return sandbox
    }

    func candidates(_ sandbox: Sandbox, _ words: String...) async -> [String] {
        let result = await sandbox.runInProcess(["__complete"] + words)
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        return lines(result.stdout)
    }

    @Test func commandNamesCompleteTheFirstWord() async throws {
        let sandbox = try Sandbox()
        #expect(await candidates(sandbox, "ge") == ["get"])
        #expect(await candidates(sandbox, "") == CommandSpec.all.map(\.name))
        #expect(await candidates(sandbox, "--json", "l") == ["login", "list", "logout"])
        #expect(await candidates(sandbox, "help", "lo") == ["login", "logout"])
    }

    @Test func aDashOffersTheCommandsOptionsAndTheGlobalOnes() async throws {
        let sandbox = try Sandbox()
        let options = await candidates(sandbox, "get", "notion", "--")
        #expect(options == ["--connection", "--field", "--show-secrets", "--vault", "--store", "--namespace", "--json", "--quiet", "--no-color", "--help"])
        #expect(await candidates(sandbox, "login", "notion", "--with") == ["--with-token"])
        #expect(await candidates(sandbox, "--") == CommandSpec.globalOptions.map { "--\($0.name)" } + ["--version"])
    }

    @Test func positionalsAndOptionValuesComeFromWhatTheCommandAccepts() async throws {
        let sandbox = try Sandbox()
        let providers = ["notion", "notion-mcp"]
        for command in ["login", "get", "export", "inspect", "status", "logout", "run"] {
            #expect(await candidates(sandbox, command, "") == providers, "\(command)")
        }
        #expect(await candidates(sandbox, "get", "notion", "").isEmpty)
        #expect(await candidates(sandbox, "run", "notion", "") == ["notion-mcp"])
        #expect(await candidates(sandbox, "run", "notion", "--", "").isEmpty)
        #expect(await candidates(sandbox, "api", "/v1/users/me", "--provider", "") == providers)
        #expect(await candidates(sandbox, "export", "--format", "") == ExportFormat.allCases.map(\.rawValue))
        #expect(await candidates(sandbox, "export", "--format=j") == ["--format=json"])
        #expect(await candidates(sandbox, "get", "notion", "-f", "work") == ["workspace_id", "workspace_name", "workspace_icon"])
        #expect(await candidates(sandbox, "vault", "") == VaultAction.allCases.map(\.rawValue))
        #expect(await candidates(sandbox, "completion", "") == ["bash", "zsh", "fish"])
        #expect(await candidates(sandbox, "list", "").isEmpty)
    }

    @Test func connectionNamesAreThoseOfTheProviderOnTheLine() async throws {
        let sandbox = try await loggedIn()
        #expect(await candidates(sandbox, "get", "notion", "--connection", "") == ["default", "work"])
        #expect(await candidates(sandbox, "logout", "notion-mcp", "-c", "") == ["agent"])
        #expect(await candidates(sandbox, "api", "/v1/users/me", "-p", "notion-mcp", "-c", "") == ["agent"])
        #expect(await candidates(sandbox, "export", "--connection", "") == ["agent", "default", "work"])
        #expect(await candidates(sandbox, "get", "notion", "--connection=w") == ["--connection=work"])
        #expect(await candidates(sandbox, "--vault", sandbox.root + "/elsewhere", "get", "notion", "-c", "").isEmpty)
    }

    @Test func aVaultThatCannotBeOpenedCompletesNothingQuietly() async throws {
        let sandbox = try await loggedIn()
        try FileManager.default.removeItem(atPath: sandbox.keyPath)
        #expect(await candidates(sandbox, "get", "notion", "--connection", "").isEmpty)
        // Providers do not need the vault.
        #expect(await candidates(sandbox, "get", "") == ["notion", "notion-mcp"])
    }

    @Test func aPassphraseVaultIsNeverPromptedForDuringCompletion() async throws {
        let sandbox = try await loggedIn()
        #expect(await sandbox.runInProcess(["vault", "passphrase"], environment: ["NOTIONAUTH_PASSPHRASE": "correct horse"]).status == 0)
        #expect(await candidates(sandbox, "get", "notion", "-c", "").isEmpty)
        let unlocked = await sandbox.runInProcess(["__complete", "get", "notion", "-c", ""], environment: ["NOTIONAUTH_PASSPHRASE": "correct horse"])
        #expect(lines(unlocked.stdout) == ["default", "work"])
    }

    @Test func nonsenseCompletesNothingAndSucceeds() async throws {
        let sandbox = try Sandbox()
        #expect(await candidates(sandbox).isEmpty)
        #expect(await candidates(sandbox, "frobnicate", "").isEmpty)
        #expect(await candidates(sandbox, "frobnicate", "--").isEmpty)
        #expect(await candidates(sandbox, "get", "--nope=x").isEmpty)
    }

    @Test func noCompletionEverPrintsAToken() async throws {
        let sandbox = try await loggedIn()
        let lines: [[String]] = [
            [""], ["get", ""], ["get", "notion", "-"], ["get", "notion", "--connection", ""],
            ["get", "notion", "--connection="], ["get", "notion", "--field", ""], ["export", ""],
            ["export", "--connection", ""], ["export", "--format", ""], ["run", ""], ["api", "/x", "-p", ""],
            ["api", "/x", "-c", ""], ["vault", ""], ["completion", ""], ["help", ""], ["get", "notion", "ntn"],
        ]
        for words in lines {
            let result = await sandbox.runInProcess(["__complete"] + words)
            #expect(!(result.stdout + result.stderr).contains("ntn_completion"), "\(words)")
        }
        for shell in ["bash", "zsh", "fish"] {
            #expect(!(await sandbox.runInProcess(["completion", shell]).stdout).contains("ntn_"))
        }
    }

    @Test func eachScriptDelegatesToTheHiddenCommand() async throws {
        let sandbox = try Sandbox()
        for shell in ["bash", "zsh", "fish"] {
            let result = await sandbox.runInProcess(["completion", shell])
            #expect(result.status == 0)
            #expect(result.stdout.contains("notionauth __complete"))
        }
        #expect(await sandbox.runInProcess(["completion", "tcsh"]).status == 2)
    }

    @Test func bashCompletesThroughTheBinary() async throws {
        let sandbox = try await loggedIn()
        let registered = try await shell("/bin/bash", "source <(notionauth completion bash) && complete -p notionauth", sandbox)
        #expect(registered.stdout == "complete -F _notionauth notionauth\n")

        func bash(_ words: String...) async throws -> [String] {
            let script = """
                source <(notionauth completion bash)
                COMP_WORDS=(notionauth \(words.map(quoted).joined(separator: " "))); COMP_CWORD=\(words.count)
                _notionauth
                printf '%s\\n' "${COMPREPLY[@]}"
                """
            return lines(try await shell("/bin/bash", script, sandbox).stdout)
        }
        #expect(try await bash("ge") == ["get"])
        #expect(try await bash("get", "") == ["notion", "notion-mcp"])
        let options = try await bash("get", "notion", "--")
        #expect(options.contains("--connection") && options.contains("--field"))
        #expect(try await bash("export", "--format", "") == ExportFormat.allCases.map(\.rawValue))
        #expect(try await bash("get", "notion", "--connection", "") == ["default", "work"])
        // bash splits `--format=j` at '=', and leaves the cursor on "=" right after it.
        #expect(try await bash("export", "--format", "=", "j") == ["json"])
        #expect(try await bash("export", "--format", "=") == ExportFormat.allCases.map(\.rawValue))
    }

    @Test func zshRegistersWithCompinitWhenSourced() async throws {
        let sandbox = try await loggedIn()
        let script = """
            autoload -Uz compinit; compinit -u
            source <(notionauth completion zsh)
            print -r -- $_comps[notionauth]
            \(Self.zshCall)
            """
        let result = try await shell("/usr/bin/zsh", script, sandbox, options: ["-f"])
        #expect(lines(result.stdout) == ["_notionauth", "default", "work"])
        #expect(result.stderr.isEmpty)
    }

    @Test func zshAutoloadsTheScriptFromFpath() async throws {
        let sandbox = try await loggedIn()
        let directory = sandbox.root + "/zsh-functions"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(try await shell("/bin/sh", "notionauth completion zsh > \(directory)/_notionauth", sandbox).status == 0)
        let script = """
            fpath=(\(directory) $fpath)
            autoload -Uz compinit; compinit -u -d \(sandbox.root)/zcompdump
            print -r -- $_comps[notionauth]
            \(Self.zshCall)
            """
        let result = try await shell("/usr/bin/zsh", script, sandbox, options: ["-f"])
        #expect(lines(result.stdout) == ["_notionauth", "default", "work"])
        #expect(result.stderr.isEmpty)
    }

    /// Runs the completion function outside a widget: the words are set by hand, and
    /// `compadd` (callable only inside one) prints what it was given.
    static let zshCall = """
        compadd() { shift; print -rl -- "$@" }
        words=(notionauth get notion --connection ''); CURRENT=5; PREFIX=''
        _notionauth
        """

    @Test func fishCompletesProvidersAndConnections() async throws {
        let sandbox = try await loggedIn()
        func fish(_ line: String) async throws -> [String] {
            let script = "source (notionauth completion fish | psub); complete -C \(quoted(line))"
            // `complete -C` prints "candidate<TAB>description".
            return lines(try await shell("/usr/bin/fish", script, sandbox).stdout).map { String($0.prefix { $0 != "\t" }) }
        }
        #expect(try await fish("notionauth get ") == ["notion", "notion-mcp"])
        #expect(try await fish("notionauth get notion --connection ") == ["default", "work"])
        #expect(try await fish("notionauth export --format=js") == ["--format=json"])
    }

    /// Runs `script` in a real shell whose `notionauth` is the binary under test.
    func shell(_ executable: String, _ script: String, _ sandbox: Sandbox, options: [String] = []) async throws -> RunResult {
        let binaries = URL(fileURLWithPath: Binary.notionauth).deletingLastPathComponent().path
        var environment = sandbox.environment
        environment["PATH"] = binaries + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        return try await Binary.run(executable, options + ["-c", script], environment: environment, directory: sandbox.root)
    }
}

private func lines(_ text: String) -> [String] {
    text.split(separator: "\n").map(String.init)
}

/// Single-quoted for bash, zsh and fish alike (none of the words here hold a quote).
private func quoted(_ word: String) -> String {
    "'\(word)'"
}
