import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

@Suite struct ExportTests {
    static let hostileValues = [
        "plain",
        "it's",
        "'''",
        "$HOME and ${PATH} and $(echo pwned) and `echo pwned`",
        #"back\slash\\ and \n literal"#,
        "line one\nline two\n",
        "tab\there",
        "ünïcødé ✓ 🦊",
        "\"double\" quotes",
        "-n",
        "",
        "trailing newline\n",
        "!history !! and * glob ? [a]",
        "quote then combining mark: '\u{301} and \\' and \\\\",
        "crlf\r\nline",
    ]

    /// Sources the text in a real shell and prints the variable's bytes back.
    static func evalInShell(_ shell: String, exportText: String, variable: String) async throws -> String {
        let sandbox = try Sandbox()
        let script = sandbox.root + "/exports"
        try exportText.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try await Binary.run(
            "/usr/bin/env", [shell, "-c", "eval \"$(cat \"$1\")\"; printf '%s' \"$\(variable)\"", shell, script],
            environment: sandbox.environment, directory: sandbox.root)
        #expect(result.status == 0, "\(shell): \(result.stderr)")
        return result.stdout
    }

    @Test(arguments: ["sh", "bash", "dash", "zsh"])
    func envFormatEvalsBackByteForByteInPOSIXShells(shell: String) async throws {
        for value in Self.hostileValues {
            let text = try ExportFormatter.format([("NOTION_ACCESS_TOKEN", value)], as: .env)
            #expect(try await Self.evalInShell(shell, exportText: text, variable: "NOTION_ACCESS_TOKEN") == value, "\(shell): \(value.debugDescription)")
        }
    }

    @Test func fishFormatIsSourcedBackByteForByteInFish() async throws {
        for value in Self.hostileValues {
            let text = try ExportFormatter.format([("NOTION_ACCESS_TOKEN", value)], as: .fish)
            let sandbox = try Sandbox()
            let script = sandbox.root + "/exports.fish"
            try text.write(toFile: script, atomically: true, encoding: .utf8)
            let result = try await Binary.run("/usr/bin/fish", ["--no-config", "-c", "source $argv[1]; printf '%s' \"$NOTION_ACCESS_TOKEN\"", script], environment: sandbox.environment, directory: sandbox.root)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == value, "fish: \(value.debugDescription)")
        }
    }

    @Test func binaryFishOutputPipesIntoSource() async throws {
        let sandbox = try Sandbox()
        let token = #"ntn_fish'quote\back$x"#
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: token).status == 0)
        let result = try await Binary.run("/usr/bin/fish", ["--no-config", "-c", "$argv[1] export notion --format fish | source; printf '%s|%s' $NOTION_ACCESS_TOKEN $NOTION_TOKEN", Binary.notionauth], environment: sandbox.environment, directory: sandbox.root)
        #expect(result.stdout == "\(token)|\(token)")
    }

    /// Reads $GITHUB_ENV the way the Actions runner does: NAME=value lines and NAME<<DELIM blocks.
    static func parseGitHubEnv(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var lines = text.components(separatedBy: "\n")[...]
        while let line = lines.popFirst(), !line.isEmpty || !lines.isEmpty {
            if let range = line.range(of: "<<") {
                let name = String(line[..<range.lowerBound]), delimiter = String(line[range.upperBound...])
                var value: [String] = []
                while let next = lines.popFirst(), next != delimiter { value.append(next) }
                result[name] = value.joined(separator: "\n")
            } else if let equals = line.firstIndex(of: "=") {
                result[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
        }
        return result
    }

    @Test func githubActionsMasksEveryValueAndAppendsToGITHUB_ENV() async throws {
        let sandbox = try Sandbox()
        let token = "ntn_github_actions_token_abc%def"
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: token).status == 0)
        let envFile = sandbox.root + "/github_env"
        try "EXISTING=1\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        let result = try await sandbox.run(["export", "notion", "--format", "github-actions"], environment: ["GITHUB_ENV": envFile])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "::add-mask::ntn_github_actions_token_abc%25def\n::add-mask::ntn_github_actions_token_abc%25def\n")
        let written = try String(contentsOfFile: envFile, encoding: .utf8)
        #expect(written.hasPrefix("EXISTING=1\n"))
        #expect(!written.contains("<<EOF\n"), "the delimiter is random")
        #expect(Self.parseGitHubEnv(written) == ["EXISTING": "1", "NOTION_ACCESS_TOKEN": token, "NOTION_TOKEN": token])
        let outside = try await sandbox.run(["export", "notion", "--format", "github-actions"])
        #expect(outside.status == 2)
        #expect(outside.stderr.contains("GITHUB_ENV"))
    }

    @Test func githubActionsCarriesMultiLineValuesAndMasksEachLine() throws {
        let (masks, envFile) = try ExportFormatter.githubActions([("A", "first\nsecond line\n")], delimiter: "D_123")
        #expect(masks == "::add-mask::first\n::add-mask::second line\n")
        #expect(Self.parseGitHubEnv(envFile)["A"] == "first\nsecond line\n")
        #expect(throws: NotionauthError.self) { try ExportFormatter.githubActions([("A", "x\nD_123\ny")], delimiter: "D_123") }
    }

    @Test func exportQuotesSingleQuotesForPOSIXShells() {
        #expect(ExportFormatter.posixQuote("it's") == #"'it'\''s'"#)
    }

    @Test func dotenvRefusesLineBreaksAndKeepsEverythingElseLiteral() throws {
        #expect(try ExportFormatter.format([("A", "x'y\"$z\\")], as: .dotenv) == "A=x'y\"$z\\\n")
        #expect(throws: NotionauthError.self) { try ExportFormatter.format([("A", "two\nlines")], as: .dotenv) }
        #expect(throws: NotionauthError.self) { try ExportFormatter.format([("A", "nul\u{0}")], as: .env) }
    }

    @Test func jsonFormatIsAnObjectOfVariables() throws {
        let text = try ExportFormatter.format([("A", "1"), ("B", "line\n\"q\"")], as: .json)
        #expect(try JSONValue.parse(Array(text.utf8)) == .object(["A": .string("1"), "B": .string("line\n\"q\"")]))
    }

    @Test(arguments: StoreKind.allCases)
    func endToEndEvalOfTheBinarysOutputInEveryShell(store: StoreKind) async throws {
        let sandbox = try await Sandbox.make(store)
        let token = #"ntn_it's$HOME\`x`"é"#
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: token).status == 0)
        let exported = try await sandbox.run(["export", "notion"])
        #expect(exported.status == 0)
        #expect(!exported.stdout.contains("REFRESH"))
        for shell in ["sh", "bash", "dash", "zsh"] {
            for variable in ["NOTION_ACCESS_TOKEN", "NOTION_TOKEN"] {
                #expect(try await Self.evalInShell(shell, exportText: exported.stdout, variable: variable) == token)
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func exportWithoutProviderCoversEveryConnectedProvider(store: StoreKind) async throws {
        let sandbox = try await Sandbox.make(store)
        #expect(await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_default_one_abcdefgh").status == 0)
        #expect(await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify", "--connection", "work"], stdin: "ntn_work_one_abcdefghijk").status == 0)
        let all = await sandbox.runInProcess(["export"])
        #expect(all.stdout == "export NOTION_ACCESS_TOKEN='ntn_default_one_abcdefgh'\nexport NOTION_TOKEN='ntn_default_one_abcdefgh'\n")
        let work = await sandbox.runInProcess(["export", "--connection", "work", "--format", "dotenv"])
        #expect(work.stdout == "NOTION_ACCESS_TOKEN=ntn_work_one_abcdefghijk\nNOTION_TOKEN=ntn_work_one_abcdefghijk\n")
        let none = await sandbox.runInProcess(["export", "--connection", "nowhere"])
        #expect(none.status == 0)
        #expect(none.stdout.isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func aClosedStandardOutputIsAnErrorNotASilentSuccess(store: StoreKind) async throws {
        let sandbox = try await Sandbox.make(store)
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_closed_stdout_abcdef").status == 0)
        let result = try await Binary.run("/bin/sh", ["-c", "\"$0\" export notion >&-", Binary.notionauth], environment: sandbox.environment, directory: sandbox.root)
        #expect(result.status == 1)
        #expect(result.stderr.contains("standard output"))
    }

    @Test(arguments: StoreKind.allCases)
    func exportOfAMissingConnectionIsExit4AndPrintsNothing(store: StoreKind) async throws {
        let sandbox = try await Sandbox.make(store)
        let result = await sandbox.runInProcess(["export", "notion"])
        #expect(result.status == 4)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("run `notionauth login notion`"))
    }
}
