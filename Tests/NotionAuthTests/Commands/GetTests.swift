import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

@Suite struct GetTests {
    static let token = "ntn_abcdefghijklmnopqrstuvwxyz_wxyz"

    func loggedIn(_ store: StoreKind) async throws -> Sandbox {
        let sandbox = try await Sandbox.make(store)
        #expect(await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify"], stdin: Self.token + "\n").status == 0)
        return sandbox
    }

    @Test(arguments: StoreKind.allCases)
    func recordIsShownWithTheTokenMasked(store: StoreKind) async throws {
        let sandbox = try await loggedIn(store)
        let result = await sandbox.runInProcess(["get", "notion"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("access_token  ntn_…wxyz"))
        #expect(!result.stdout.contains(Self.token))
        #expect(result.stdout.contains("status        connected"))
    }

    @Test(arguments: StoreKind.allCases)
    func accessTokenFieldPrintsTheRawTokenAlone(store: StoreKind) async throws {
        let sandbox = try await loggedIn(store)
        let result = await sandbox.runInProcess(["get", "notion", "--field", "access_token"])
        #expect(result.stdout == Self.token + "\n")
        #expect(result.stderr.isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func statusFieldNamesEveryStateAndOnlyConnectedHandsOutAToken(store: StoreKind) async throws {
        let sandbox = try await loggedIn(store)
        #expect(await sandbox.runInProcess(["get", "notion", "--field", "status"]).stdout == "connected\n")
        #expect(await sandbox.runInProcess(["get", "notion", "--connection", "none", "--field", "status"]).stdout == "not_connected\n")
        for status in [Connection.Status.expired, .revoked, .invalid] {
            try await sandbox.editConnection { $0.status = status }
            #expect(await sandbox.runInProcess(["get", "notion", "--field", "status"]).stdout == "\(status.rawValue)\n")
            let token = await sandbox.runInProcess(["get", "notion", "--field", "access_token"])
            #expect(token.status == 4)
            #expect(token.stdout.isEmpty)
            #expect(token.stderr.contains("is \(status.rawValue)"))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aKnownExpiryInThePastReadsAsExpired(store: StoreKind) async throws {
        let sandbox = try await loggedIn(store)
        try await sandbox.editConnection { $0.expiresAt = 1_000 }
        #expect(await sandbox.runInProcess(["get", "notion", "--field", "status"]).stdout == "expired\n")
    }

    @Test(arguments: StoreKind.allCases)
    func refreshTokenNeedsShowSecrets(store: StoreKind) async throws {
        let sandbox = try await loggedIn(store)
        try await sandbox.editConnection { $0.refreshToken = "nrt_secret_refresh_token_1234" }
        let masked = await sandbox.runInProcess(["get", "notion"])
        #expect(!masked.stdout.contains("nrt_secret_refresh_token_1234"))
        #expect(masked.stdout.contains("refresh_token  nrt_…1234"))
        let refused = await sandbox.runInProcess(["get", "notion", "--field", "refresh_token"])
        #expect(refused.status == 2)
        #expect(!refused.stderr.contains("nrt_secret"))
        #expect(await sandbox.runInProcess(["get", "notion", "--field", "refresh_token", "--show-secrets"]).stdout == "nrt_secret_refresh_token_1234\n")
        #expect(await sandbox.runInProcess(["get", "notion", "--show-secrets"]).stdout.contains("nrt_secret_refresh_token_1234"))
    }

    @Test(arguments: StoreKind.allCases)
    func jsonOutputIsAVersionedObject(store: StoreKind) async throws {
        let sandbox = try await loggedIn(store)
        let json = try JSONValue.parse(Array(await sandbox.runInProcess(["get", "notion", "--json"]).stdout.utf8))
        #expect(json["version"] == .int(1))
        #expect(json["connection"]?["access_token"] == .string("ntn_…wxyz"))
        #expect(json["connection"]?["provider"] == .string("notion"))
    }

    @Test(arguments: StoreKind.allCases)
    func unknownFieldIsExit3AndMissingConnectionExit4(store: StoreKind) async throws {
        let sandbox = try await loggedIn(store)
        let field = await sandbox.runInProcess(["get", "notion", "--field", "colour"])
        #expect(field.status == 3)
        let missing = await sandbox.runInProcess(["get", "notion", "--connection", "work"])
        #expect(missing.status == 4)
        #expect(missing.stderr == "error: not logged in to notion (connection 'work'); run `notionauth login notion --connection work`\n")
    }

    @Test func aTimeBeyondTheCalendarIsPrintedAsUnixSecondsNotANonsenseDate() async throws {
        let sandbox = try Sandbox()
        var connection = Connection(provider: "notion", name: "default", kind: .token, accessToken: "ntn_x", obtainedAt: .max)
        connection.expiresAt = .min
        try await sandbox.storeRecords([connection.recordName: connection])
        let result = await sandbox.runInProcess(["get", "notion", "--field", "obtained_at"])
        #expect(result.stdout == "@9223372036854775807\n")
        #expect(Timestamp.iso8601(1_790_000_000) == "2026-09-21T14:13:20Z")
        #expect(Timestamp.iso8601(.min) == "@-9223372036854775808")
        #expect(Timestamp.relative(.max, now: -10) == "@9223372036854775807")
        let list = await sandbox.runInProcess(["list"])
        #expect(list.status == 0, "\(list.stderr)")
    }
}
