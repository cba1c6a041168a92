import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

@Suite struct InstallTests {
    /// scripts/test exports NOTIONAUTH_RELEASE_BIN (the static release build); otherwise the
    /// debug binary next to the tests is installed, which exercises the same script.
    static var binaryToInstall: String {
        ProcessInfo.processInfo.environment["NOTIONAUTH_RELEASE_BIN"] ?? Binary.notionauth
    }

    @Test func installsIntoAPrefixRunsFromElsewhereAndUninstallsCleanly() async throws {
        let sandbox = try Sandbox()
        let prefix = sandbox.root + "/prefix"
        var environment = sandbox.environment
        environment["NOTIONAUTH_BIN"] = Self.binaryToInstall
        let installed = try await Binary.run("/bin/bash", [Binary.repositoryRoot + "/scripts/install", prefix], environment: environment, directory: sandbox.root, timeoutSeconds: 120)
        #expect(installed.status == 0, "\(installed.stderr)")
        for file in ["bin/notionauth", "bin/notionauth-mcp", "bin/notionauth-postgres", "bin/notionauth-proxy", "share/man/man1/notionauth.1", "share/man/man5/notionauth-vault.5", "share/man/man5/notionauth-providers.5",
                     "share/bash-completion/completions/notionauth", "share/zsh/site-functions/_notionauth", "share/fish/vendor_completions.d/notionauth.fish"] {
            #expect(FileManager.default.fileExists(atPath: "\(prefix)/\(file)"), "\(file)")
        }
        // Run from an unrelated directory, with no source tree in sight.
        let elsewhere = sandbox.root + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        let version = try await Binary.run("\(prefix)/bin/notionauth", ["--version"], environment: sandbox.environment, directory: elsewhere)
        #expect(version.stdout == "notionauth \(Version.current)\n")
        let login = try await Binary.run("\(prefix)/bin/notionauth", ["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_installed_binary_token_1", environment: sandbox.environment, directory: elsewhere)
        #expect(login.status == 0)
        let inspect = try await Binary.run("\(prefix)/bin/notionauth", ["inspect", "notion"], environment: sandbox.environment, directory: elsewhere)
        #expect(inspect.stdout.contains("api.notion.com"))
        // `notionauth mcp` finds the server installed beside it and answers an MCP client.
        let mcp = try await sandbox.mcpSession([], [.listTools], notionauth: "\(prefix)/bin/notionauth")
        #expect(mcp.tools.count == 21)
        // `run --proxy` becomes the notionauth-proxy installed beside it.
        let proxied = try await Binary.run("\(prefix)/bin/notionauth", ["run", "--proxy", "--", "sh", "-c", "echo \"$NOTION_TOKEN $HTTPS_PROXY\""], environment: sandbox.environment, directory: elsewhere)
        #expect(proxied.status == 0, "\(proxied.stderr)")
        #expect(proxied.stdout.hasPrefix("notionauth-proxy-managed http://notionauth:"), "\(proxied.stdout)")
        let man = try await Binary.run("/usr/bin/man", ["-l", "\(prefix)/share/man/man1/notionauth.1"], environment: sandbox.environment.merging(["MANPAGER": "cat"]) { $1 }, directory: elsewhere)
        #expect(man.status == 0)

        let removed = try await Binary.run("/bin/bash", [Binary.repositoryRoot + "/scripts/uninstall", prefix], environment: sandbox.environment, directory: sandbox.root)
        #expect(removed.status == 0)
        let left = FileManager.default.enumerator(atPath: prefix)?.allObjects.compactMap { $0 as? String }.filter {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: "\(prefix)/\($0)", isDirectory: &isDirectory)
            return !isDirectory.boolValue
        } ?? []
        #expect(left.isEmpty, "left behind: \(left)")
        #expect(FileManager.default.fileExists(atPath: sandbox.vaultPath), "uninstall keeps the vault")
    }
}
