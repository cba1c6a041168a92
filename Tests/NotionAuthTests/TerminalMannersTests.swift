import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// Colour only on a terminal, never with NO_COLOR or --no-color; --quiet; no waiting prompts.
@Suite struct TerminalMannersTests {
    static func run(_ arguments: [String], terminal: Bool, environment: [String: String] = [:]) throws -> RunResult {
        let sandbox = try Sandbox()
        let stdout = OutputSink(), stderr = OutputSink()
        let context = Context(
            environment: sandbox.environment.merging(environment) { $1 }, stdout: stdout, stderr: stderr,
            readStandardInput: { [] }, stdinIsTerminal: terminal, stdoutIsTerminal: terminal, stderrIsTerminal: terminal,
            promptSecret: { _ in nil }, now: { 1_790_000_000 }, http: AsyncHTTPTransport(), openBrowser: { _ in false })
        let status = Runner.run(arguments, context: context)
        return RunResult(status: status, stdout: stdout.text, stderr: stderr.text)
    }

    @Test func errorsAreColouredOnATerminalOnly() throws {
        #expect(try Self.run(["get", "nope"], terminal: true).stderr.hasPrefix("\u{1B}[31merror:\u{1B}[0m"))
        #expect(try Self.run(["get", "nope"], terminal: false).stderr.hasPrefix("error: "))
    }

    @Test func noColorAndTheFlagTurnColourOff() throws {
        #expect(try Self.run(["get", "nope"], terminal: true, environment: ["NO_COLOR": "1"]).stderr.hasPrefix("error: "))
        #expect(try Self.run(["get", "nope", "--no-color"], terminal: true).stderr.hasPrefix("error: "))
    }

    @Test func quietSilencesConfirmationsButNotData() async throws {
        let sandbox = try Sandbox()
        let loud = await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_quiet_test_token_abcde")
        #expect(loud.stderr.contains("Logged in"))
        let quiet = await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify", "--quiet", "--connection", "q"], stdin: "ntn_quiet_test_token_abcde")
        #expect(quiet.status == 0)
        #expect(quiet.stderr.isEmpty)
        #expect(await sandbox.runInProcess(["-q", "get", "notion", "--field", "status"]).stdout == "connected\n")
    }

    @Test func noPromptWaitsWithoutATerminal() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_prompt_test_token_abcd").status == 0)
        #expect(await sandbox.runInProcess(["vault", "passphrase"], environment: ["NOTIONAUTH_PASSPHRASE": "pass phrase"]).status == 0)
        // On a terminal but with NOTIONAUTH_NO_PROMPT: fails at once, naming what would have answered.
        let result = try Self.run(["get", "notion"], terminal: true, environment: ["NOTIONAUTH_HOME": sandbox.config, "NOTIONAUTH_NO_PROMPT": "1"])
        #expect(result.status == 5)
        #expect(result.stderr.contains("NOTIONAUTH_PASSPHRASE"))
    }

    @Test func jsonOutputOfEveryDataCommandIsAVersionedObject() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_json_test_token_abcdef").status == 0)
        for arguments in [["get", "notion"], ["list"], ["vault"], ["status", "notion-mcp"]] {
            let result = await sandbox.runInProcess(arguments + ["--json"])
            let json = try JSONValue.parse(Array(result.stdout.utf8))
            #expect(json["version"] == .int(1), "\(arguments)")
        }
    }
}
