import Foundation
import Testing
@testable import NotionAuthKit

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

    @Test func endToEndEvalOfTheBinarysOutputInEveryShell() async throws {
        let sandbox = try Sandbox()
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

    @Test func exportWithoutProviderCoversEveryConnectedProvider() async throws {
        let sandbox = try Sandbox()
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

    @Test func aClosedStandardOutputIsAnErrorNotASilentSuccess() async throws {
        let sandbox = try Sandbox()
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_closed_stdout_abcdef").status == 0)
        let result = try await Binary.run("/bin/sh", ["-c", "\"$0\" export notion >&-", Binary.notionauth], environment: sandbox.environment, directory: sandbox.root)
        #expect(result.status == 1)
        #expect(result.stderr.contains("standard output"))
    }

    @Test func exportOfAMissingConnectionIsExit4AndPrintsNothing() async throws {
        let sandbox = try Sandbox()
        let result = await sandbox.runInProcess(["export", "notion"])
        #expect(result.status == 4)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("run `notionauth login notion`"))
    }
}
