@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthKit

/// Details a second implementer or a third-party OAuth server finds: client authentication
/// encoding, whose variables set a version header, error shapes, and the small things a
/// person notices (dates, messages, pipes).
@Suite struct ProtocolDetailTests {
    @Test func basicClientAuthenticationFormEncodesTheIdAndSecretFirst() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        setup.server.registerClient(id: "urn:client:1", secret: "s3cret value+%&", redirectURIs: [setup.redirectURI])
        let running = try RunningLogin(setup.sandbox, ["login", "notion", "--no-browser", "--port", String(setup.port), "--timeout", "20", "--client-id", "urn:client:1", "--client-secret-stdin"], stdin: "s3cret value+%&")
        try await running.approveInBrowser(at: setup.server)
        let result = try await running.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let header = try #require(setup.server.lastRequest(path: "/v1/oauth/token")?.headers["authorization"])
        #expect(header == "Basic " + Data("urn%3Aclient%3A1:s3cret+value%2B%25%26".utf8).base64EncodedString())
    }

    @Test(arguments: ["2f1e1c2b-7a52-4c83-9d2f-3c1e0b9a8d7e", "secret_AbCdEf0123456789xyzXYZ", "ntn_123_abc-DEF.ghi~"])
    func notionsOwnIdsAndSecretsAreUnchangedByTheEncoding(value: String) {
        #expect(URLEncoding.formComponent(value) == value)
    }

    static func definition(versionHeader: String) throws -> ProviderDefinition {
        let json = try String(contentsOfFile: Binary.repositoryRoot + "/providers/notion.json", encoding: .utf8)
            .replacingOccurrences(of: "\"Notion-Version\"", with: "\"\(versionHeader)\"")
        return try ProviderLoader.load(Array(json.utf8), file: "notion.json", expectedName: "notion").0
    }

    @Test func notionVersionVariablesSetOnlyANotionVersionHeader() async throws {
        var context = await contextFor(try Sandbox())
        context.environment["NOTION_VERSION"] = "2026-03-11"
        let notion = ProviderAPI(definition: try Self.definition(versionHeader: "Notion-Version"), context: context)
        #expect(notion.versionHeaders.map(\.1) == ["2026-03-11"])
        let other = ProviderAPI(definition: try Self.definition(versionHeader: "X-GitHub-Api-Version"), context: context)
        #expect(other.versionHeaders.map(\.0) == ["X-GitHub-Api-Version"])
        #expect(other.versionHeaders.map(\.1) == ["2025-09-03"], "the definition's own default, not Notion's variable")
        context.environment = ["NOTION_API_VERSION": "2022-06-28"]
        #expect(ProviderAPI(definition: try Self.definition(versionHeader: "notion-version"), context: context).apiVersion == "2022-06-28")
    }

    @Test func aTokenAnswerOf200WithAnErrorIsReportedWithItsCode() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        setup.server.failNext(path: "/v1/oauth/token", status: 200, body: #"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}"#, headers: [("Content-Type", "application/json")])
        let running = try setup.login()
        try await running.approveInBrowser(at: setup.server)
        let result = try await running.finish()
        #expect(result.status != 0)
        #expect(result.stderr.contains("The code passed is incorrect or expired. (bad_verification_code)"))
        #expect(!result.stderr.contains("without an access token"))
    }

    @Test func aFormEncodedErrorDescriptionIsDecodedBeforeItIsShown() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        setup.server.failNext(path: "/v1/oauth/token", status: 400, body: "error=invalid_grant&error_description=The+code+has+expired%21+Start+again.", headers: [("Content-Type", "application/x-www-form-urlencoded")])
        let running = try setup.login()
        try await running.approveInBrowser(at: setup.server)
        let result = try await running.finish()
        #expect(result.status == 4)
        #expect(result.stderr.contains("The code has expired! Start again. (invalid_grant)"), "\(result.stderr)")
    }

    /// Stores `connection` directly, as a hand-made or damaged vault would hold it.
    static func store(_ sandbox: Sandbox, _ records: [String: Connection]) async throws {
        let vault = await sandbox.vault()
        try vault.update { (contents: inout VaultContents) throws(NotionauthError) in
            for (name, connection) in records { contents.records[name] = connection.fields.bytes }
        }
    }

    @Test func aTimeBeyondTheCalendarIsPrintedAsUnixSecondsNotANonsenseDate() async throws {
        let sandbox = try Sandbox()
        var connection = Connection(provider: "notion", name: "default", kind: .token, accessToken: "ntn_x", obtainedAt: .max)
        connection.expiresAt = .min
        try await Self.store(sandbox, [connection.recordName: connection])
        let result = await sandbox.runInProcess(["get", "notion", "--field", "obtained_at"])
        #expect(result.stdout == "@9223372036854775807\n")
        #expect(Timestamp.iso8601(1_790_000_000) == "2026-09-21T14:13:20Z")
        #expect(Timestamp.iso8601(.min) == "@-9223372036854775808")
        #expect(Timestamp.relative(.max, now: -10) == "@9223372036854775807")
        let list = await sandbox.runInProcess(["list"])
        #expect(list.status == 0, "\(list.stderr)")
    }

    @Test func aFreshTokenWasObtainedJustNow() async throws {
        #expect(Timestamp.relative(1_790_000_000, now: 1_790_000_000) == "just now")
        #expect(Timestamp.relative(1_790_000_005, now: 1_790_000_000) == "in 5s")
        #expect(Timestamp.relative(1_789_999_995, now: 1_790_000_000) == "5s ago")
        let sandbox = try Sandbox()
        let connection = Connection(provider: "notion", name: "default", kind: .token, accessToken: "ntn_x", obtainedAt: 1_790_000_000)
        try await Self.store(sandbox, [connection.recordName: connection])
        // A provider with no identity endpoint: status reports without asking anyone.
        let json = try String(contentsOfFile: Binary.repositoryRoot + "/providers/notion.json", encoding: .utf8)
            .replacingOccurrences(of: #","# + "\n" + #"    "identity_path": "/v1/users/me""#, with: "")
        try sandbox.writeProvider("notion", json)
        let status = await sandbox.runInProcess(["status", "notion"])
        #expect(status.stdout.contains("just now"), "\(status.stdout)\(status.stderr)")
        #expect(!status.stdout.contains("in 0s"))
    }

    @Test func vaultPassphraseOnANewVaultSaysItCreatedOne() async throws {
        let sandbox = try Sandbox()
        let result = await sandbox.runInProcess(["vault", "passphrase"], environment: ["NOTIONAUTH_PASSPHRASE": "correct horse"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("Created an empty vault"))
        #expect(!result.stderr.contains("key file"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.keyPath))
    }

    @Test func aRecordWhoseFieldsNameAnotherConnectionIsRefusedByGetAndListAlike() async throws {
        let sandbox = try Sandbox()
        let impostor = Connection(provider: "notion", name: "other", kind: .token, accessToken: "ntn_x", obtainedAt: 1_790_000_000)
        try await Self.store(sandbox, [Connection.recordName(provider: "notion", connection: "work"): impostor])
        for arguments in [["get", "notion", "--connection", "work"], ["list"], ["vault", "verify"]] {
            let result = await sandbox.runInProcess(arguments)
            #expect(result.status == 5, "\(arguments): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains("record 'connection/notion/work' holds the fields of 'connection/notion/other'"))
        }
    }

    @Test func vaultVerifyParsesClientRecordsToo() async throws {
        let sandbox = try Sandbox()
        let vault = await sandbox.vault()
        try vault.update { (contents: inout VaultContents) throws(NotionauthError) in
            contents.records[ClientCredentials.recordName(provider: "notion")] = ClientCredentials(provider: "other", clientID: "c", clientSecret: "s").fields.bytes
        }
        let result = await sandbox.runInProcess(["vault", "verify"])
        #expect(result.status == 5)
        #expect(result.stderr.contains("record 'client/notion' holds the fields of 'client/other'"))
    }

    @Test func suggestionsNeverRepeatTheNameThatFailed() async throws {
        let sandbox = try Sandbox()
        let long = String(repeating: "notion", count: 12)
        try sandbox.writeProvider(long, "{}")
        let result = await sandbox.runInProcess(["inspect", long])
        #expect(result.status == 3)
        #expect(!result.stderr.contains("did you mean '\(long)'"), "\(result.stderr)")
        #expect(NearMiss.closest(to: "notion", among: ["notion", "notion-mcp"]) != "notion")
        #expect(NearMiss.closest(to: "notoin", among: ["notion", "notion-mcp"]) == "notion")
    }

    @Test func aReaderThatStopsEarlyEndsTheCommandQuietlyWithStatus141() async throws {
        let sandbox = try Sandbox()
        var records: [String: Connection] = [:]
        // Enough rows to fill the pipe, so the write happens after `head` has gone.
        for index in 0..<3000 {
            let connection = Connection(provider: "notion", name: "connection-\(index)", kind: .token, accessToken: "ntn_x", obtainedAt: 1_790_000_000)
            records[connection.recordName] = connection
        }
        try await Self.store(sandbox, records)
        let script = #""$0" list | head -1 >/dev/null; echo "status ${PIPESTATUS[0]}""#
        let result = try await Binary.run("/bin/bash", ["-c", script, Binary.notionauth], environment: sandbox.environment, directory: sandbox.root)
        #expect(result.stdout == "status 141\n")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        // Any other write failure is still an error.
        let full = try await Binary.run("/bin/sh", ["-c", #""$0" list > /dev/full"#, Binary.notionauth], environment: sandbox.environment, directory: sandbox.root)
        #expect(full.status == 1)
        #expect(full.stderr.contains("cannot write"))
    }
}
