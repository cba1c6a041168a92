@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthCLI

/// `use PROVIDER CONNECTION`: the connection every command uses without --connection, kept
/// in the store; NOTIONAUTH_CONNECTION overrides it for one shell, --connection for one command.
@Suite struct UseTests {
    static let defaultToken = "ntn_use_default_token_0123456789"
    static let workToken = "ntn_use_work_token_abcdefghijkl"

    /// `default` and `work` connections of notion, in the given store.
    static func twoConnections(_ store: StoreKind) async throws -> Sandbox {
        let sandbox = try await Sandbox.make(store)
        #expect(await sandbox.loginWithToken(defaultToken).status == 0)
        #expect(await sandbox.loginWithToken(workToken, connection: "work").status == 0)
        return sandbox
    }

    @Test(arguments: StoreKind.allCases)
    func afterUseEveryCommandWithoutConnectionUsesTheChosenOne(store: StoreKind) async throws {
        let sandbox = try await Self.twoConnections(store)
        let chosen = await sandbox.runInProcess(["use", "notion", "work"])
        #expect(chosen.status == 0, "\(chosen.stderr)")
        #expect(chosen.stderr.contains("'work'"))
        #expect(await sandbox.runInProcess(["get", "notion", "--field", "access_token", "--show-secrets"]).stdout == Self.workToken + "\n")
        #expect(await sandbox.runInProcess(["export", "notion"]).stdout.contains(Self.workToken))
        // Without a provider, export takes each provider's own choice.
        #expect(await sandbox.runInProcess(["export"]).stdout.contains(Self.workToken))
        let run = try await sandbox.run(["run", "notion", "--", "sh", "-c", "printf %s \"$NOTION_TOKEN\""])
        #expect(run.stdout == Self.workToken, "\(run.stderr)")
        #expect(await sandbox.runInProcess(["use", "notion"]).stdout == "work\n")
        // --connection still picks any other for one command.
        #expect(await sandbox.runInProcess(["get", "notion", "--field", "access_token", "--show-secrets", "--connection", "default"]).stdout == Self.defaultToken + "\n")
        // And `use notion default` goes back.
        #expect(await sandbox.runInProcess(["use", "notion", "default"]).status == 0)
        #expect(await sandbox.runInProcess(["get", "notion", "--field", "access_token", "--show-secrets"]).stdout == Self.defaultToken + "\n")
    }

    @Test func NOTIONAUTH_CONNECTIONOverridesTheChoiceForOneShell() async throws {
        let sandbox = try await Self.twoConnections(.file)
        #expect(await sandbox.runInProcess(["use", "notion", "work"]).status == 0)
        let overridden = await sandbox.runInProcess(["get", "notion", "--field", "access_token", "--show-secrets"], environment: ["NOTIONAUTH_CONNECTION": "default"])
        #expect(overridden.stdout == Self.defaultToken + "\n")
        let shown = await sandbox.runInProcess(["--json", "use", "notion"], environment: ["NOTIONAUTH_CONNECTION": "default"])
        #expect(shown.stdout.contains("\"source\":\"NOTIONAUTH_CONNECTION\""), "\(shown.stdout)")
        let invalid = await sandbox.runInProcess(["get", "notion", "--field", "status"], environment: ["NOTIONAUTH_CONNECTION": "no such/name"])
        #expect(invalid.status == 2)
        #expect(invalid.stderr.contains("NOTIONAUTH_CONNECTION"))
    }

    @Test func aConnectionThatDoesNotExistCannotBeChosen() async throws {
        let sandbox = try await Self.twoConnections(.file)
        let result = await sandbox.runInProcess(["use", "notion", "wrok"])
        #expect(result.status == 3)
        #expect(result.stderr.contains("wrok"))
        #expect(await sandbox.runInProcess(["use", "notion"]).stdout == "default\n")
        #expect(await sandbox.runInProcess(["use", "notion", "bad name"]).status == 2)
    }

    @Test func listMarksTheConnectionInUse() async throws {
        let sandbox = try await Self.twoConnections(.file)
        #expect(await sandbox.runInProcess(["use", "notion", "work"]).status == 0)
        let text = await sandbox.runInProcess(["list"])
        #expect(text.stdout.contains("work *"), "\(text.stdout)")
        #expect(text.stdout.contains("* used when --connection is not given"))
        let json = try JSONValue.parse(Array(await sandbox.runInProcess(["--json", "list"]).stdout.utf8))
        let notion = try #require(json["providers"]?.arrayValue?.first { $0["name"]?.stringValue == "notion" })
        let marks = (notion["connections"]?.arrayValue ?? []).map { ($0["name"]?.stringValue ?? "", $0["default"]) }
        #expect(marks.first { $0.0 == "work" }?.1 == .bool(true))
        #expect(marks.first { $0.0 == "default" }?.1 == .bool(false))
    }

    @Test func loggingOutTheChosenConnectionFallsBackToDefaultAndSaysSo() async throws {
        let sandbox = try await Self.twoConnections(.file)
        #expect(await sandbox.runInProcess(["use", "notion", "work"]).status == 0)
        let result = await sandbox.runInProcess(["logout", "notion", "--keep-remote"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("removed 'work'"), "the chosen connection is the one logged out: \(result.stderr)")
        #expect(result.stderr.contains("default connection is 'default' again"))
        #expect(await sandbox.runInProcess(["use", "notion"]).stdout == "default\n")
        #expect(await sandbox.runInProcess(["get", "notion", "--field", "access_token", "--show-secrets"]).stdout == Self.defaultToken + "\n")
    }

    @Test func completionOffersTheProvidersConnectionNames() async throws {
        let sandbox = try await Self.twoConnections(.file)
        #expect(await sandbox.runInProcess(["__complete", "use", "notion", ""]).stdout.split(separator: "\n") == ["default", "work"])
        #expect(await sandbox.runInProcess(["__complete", "use", ""]).stdout.contains("notion"))
    }

    @Test func storeCopyCarriesTheChoice() async throws {
        let sandbox = try await Self.twoConnections(.file)
        #expect(await sandbox.runInProcess(["use", "notion", "work"]).status == 0)
        let copy = sandbox.root + "/copy.vault"
        let copied = await sandbox.runInProcess(["store", "copy", "--from", "file:" + sandbox.vaultPath, "--to", "file:" + copy])
        #expect(copied.status == 0, "\(copied.stderr)")
        let shown = await sandbox.runInProcess(["--vault", copy, "use", "notion"])
        #expect(shown.stdout == "work\n", "\(shown.stderr)")
    }
}
