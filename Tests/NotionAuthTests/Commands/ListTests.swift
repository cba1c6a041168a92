import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// `list`: every provider with its connections, from the vault's index.
@Suite struct ListTests {
    @Test func aReaderThatStopsEarlyEndsTheCommandQuietlyWithStatus141() async throws {
        let sandbox = try Sandbox()
        var records: [String: Connection] = [:]
        // Enough rows to fill the pipe, so the write happens after `head` has gone.
        for index in 0..<3000 {
            let connection = Connection(provider: "notion", name: "connection-\(index)", kind: .token, accessToken: "ntn_x", obtainedAt: 1_790_000_000)
            records[connection.recordName] = connection
        }
        try await sandbox.storeRecords(records)
        let script = #""$0" list | head -1 >/dev/null; echo "status ${PIPESTATUS[0]}""#
        let result = try await Binary.run("/bin/bash", ["-c", script, Binary.notionauth], environment: sandbox.environment, directory: sandbox.root)
        #expect(result.stdout == "status 141\n")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        // Any other write failure is still an error.
        let full = try await Binary.run("/bin/sh", ["-c", #""$0" list > /dev/full"#, Binary.notionauth], environment: sandbox.environment, directory: sandbox.root)
        #expect(full.status == 1)
        #expect(full.stderr.contains("cannot write"))
    }

    @Test func overrideFileWinsOverTheBundledDefinitionAndListSaysSo() async throws {
        let sandbox = try Sandbox()
        let original = await sandbox.runInProcess(["inspect", "notion"])
        try sandbox.writeProvider("notion", original.stdout.replacingOccurrences(of: "https://api.notion.com\"", with: "http://127.0.0.1:9\""))
        let inspected = await sandbox.runInProcess(["inspect", "notion"])
        #expect(inspected.stdout.contains("\"base_url\" : \"http://127.0.0.1:9\""))
        let list = await sandbox.runInProcess(["list"])
        #expect(list.stdout.contains("notion      override"))
    }
}
