import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// The exit status table of notionauth(1), checked through the real binary.
@Suite struct ExitStatusTests {
    @Test func everyDocumentedExitStatusIsWhatTheBinaryReturns() async throws {
        let sandbox = try Sandbox()
        #expect(try await sandbox.run(["--version"]).status == 0)
        #expect(try await sandbox.run(["get", "notion", "--bogus"]).status == 2)
        #expect(try await sandbox.run(["get", "nope"]).status == 3)
        #expect(try await sandbox.run(["get", "notion"]).status == 4)
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_exit_status_token_abc").status == 0)
        #expect(try await sandbox.run(["get", "notion", "--field", "nope"]).status == 3)
        chmod(sandbox.keyPath, 0o644)
        #expect(try await sandbox.run(["get", "notion"]).status == 5)
        chmod(sandbox.keyPath, 0o600)
        try sandbox.writeProvider("notion", "{}")
        #expect(try await sandbox.run(["get", "notion"]).status == 1)
    }

    @Test func interruptWhileWaitingForInputExits130AndLeavesTheVaultAlone() async throws {
        let sandbox = try Sandbox()
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_before_interrupt_abcdef").status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: sandbox.vaultPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.notionauth)
        process.arguments = ["login", "notion", "--with-token", "--no-verify", "--connection", "other"]
        process.environment = sandbox.environment
        let input = Pipe()
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The token never arrives: the write end stays open until after the signal.
        try await Task.sleep(nanoseconds: 300_000_000)
        kill(process.processIdentifier, SIGINT)
        try await Binary.wait(process, timeoutSeconds: 10)
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 130)
        try input.fileHandleForWriting.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: sandbox.vaultPath)) == before)
    }

    @Test func errorsGoToStderrAsErrorLinesOrJSON() async throws {
        let sandbox = try Sandbox()
        let plain = try await sandbox.run(["get", "notion"])
        #expect(plain.stdout.isEmpty)
        #expect(plain.stderr.hasPrefix("error: "))
        let json = try await sandbox.run(["get", "notion", "--json"])
        let error = try JSONValue.parse(Array(json.stderr.utf8))
        #expect(error["error"]?["code"] == .string("not_logged_in"))
        #expect(error["error"]?["exit_status"] == .int(4))
    }

    @Test func helpAndVersionGoToStdout() async throws {
        let sandbox = try Sandbox()
        let help = try await sandbox.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("usage: notionauth COMMAND"))
        let version = try await sandbox.run(["--version"])
        #expect(version.stdout == "notionauth \(Version.current)\n")
        for spec in CommandSpec.all {
            let result = try await sandbox.run([spec.name, "--help"])
            #expect(result.stdout == spec.helpText)
        }
    }
}
