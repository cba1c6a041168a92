import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

@Suite struct ProviderTests {
    static let providersDirectory = Binary.repositoryRoot + "/providers"

    @Test func compiledDefinitionsEqualTheFilesByteForByte() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.providersDirectory).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files.map { String($0.dropLast(5)) }.sorted() == ProviderRegistry.bundledNames.sorted())
        for file in files {
            let text = try String(contentsOfFile: "\(Self.providersDirectory)/\(file)", encoding: .utf8)
            #expect(ProviderRegistry.bundledJSON(named: String(file.dropLast(5))) == text, "\(file)")
        }
    }

    @Test func bundledDefinitionsAreValidWithoutWarnings() throws {
        let registry = ProviderRegistry(overridesDirectory: "/nonexistent")
        for name in ProviderRegistry.bundledNames {
            let resolved = try registry.resolve(name: name)
            #expect(resolved.warnings.isEmpty)
            #expect(resolved.source == .bundled)
        }
        let notion = try registry.resolve(name: "notion").definition
        #expect(notion.oauth?.clientAuth == .basic)
        #expect(notion.oauth?.tokenBody == .json)
        #expect(notion.oauth?.pkce == false)
        #expect(notion.oauth?.authorizeParams == ["owner": "user"])
        #expect(notion.api.versionHeader == "Notion-Version")
        #expect(notion.api.identityPath == "/v1/users/me")
        #expect(notion.exportAccessToken == ["NOTION_ACCESS_TOKEN", "NOTION_TOKEN"])
        #expect(notion.clientIDEnvironment == "NOTION_CLIENT_ID")
        #expect(notion.clientSecretEnvironment == "NOTION_CLIENT_SECRET")
        let mcp = try registry.resolve(name: "notion-mcp").definition
        #expect(mcp.flows == [.dynamicRegistration])
        #expect(mcp.oauth?.pkce == true)
        #expect(mcp.oauth?.tokenBody == .form)
        #expect(mcp.oauth?.clientAuth == ProviderDefinition.ClientAuth.none)
        #expect(mcp.mcp?.url == "https://mcp.notion.com/mcp")
        #expect(notion.mcp == nil)
    }

    @Test func userFileAddsAProvider() async throws {
        let sandbox = try Sandbox()
        let json = try String(contentsOfFile: Self.providersDirectory + "/notion.json", encoding: .utf8)
            .replacingOccurrences(of: "\"name\": \"notion\"", with: "\"name\": \"acme\"")
        try sandbox.writeProvider("acme", json)
        let list = await sandbox.runInProcess(["list"])
        #expect(list.stdout.contains("Providers: 3 total"))
        #expect(list.stdout.contains("acme        user"))
    }

    /// Each malformed file names the file and the JSON path of the bad field.
    @Test(arguments: [
        (#"{"schema_version":1,"name":"notion","flows":["token"],"api":{"base_url":"https://x"},"export":{"access_token":[1]}}"#, "$.export.access_token[0]"),
        (#"{"schema_version":1,"name":"notion","flows":["token"],"api":{"base_url":"http://example.com"},"export":{"access_token":["A"]}}"#, "$.api.base_url"),
        (#"{"schema_version":1,"name":"notion","flows":["magic"],"api":{"base_url":"https://x"},"export":{"access_token":["A"]}}"#, "$.flows[0]"),
        (#"{"schema_version":1,"name":"notion","flows":["authorization_code"],"oauth":{"authorization_url":"https://x/a"},"api":{"base_url":"https://x"},"export":{"access_token":["A"]}}"#, "$.oauth.token_url"),
        (#"{"schema_version":1,"name":"notion","flows":["token"],"oauth":{"token_url":42},"api":{"base_url":"https://x"},"export":{"access_token":["A"]}}"#, "$.oauth.token_url"),
        (#"{"schema_version":1,"name":"notion","flows":["token"],"oauth":{"client_auth":"magic"},"api":{"base_url":"https://x"},"export":{"access_token":["A"]}}"#, "$.oauth.client_auth"),
        (#"{"schema_version":1,"name":"other","flows":["token"],"api":{"base_url":"https://x"},"export":{"access_token":["A"]}}"#, "$.name"),
        (#"{"schema_version":2,"name":"notion","flows":["token"],"api":{"base_url":"https://x"},"export":{"access_token":["A"]}}"#, "$.schema_version"),
        (#"{"schema_version":1,"name":"notion","flows":["token"],"api":{"base_url":"https://x"},"export":{"access_token":["BAD-NAME"]}}"#, "$.export.access_token[0]"),
        (#"{"schema_version":1,"name":"notion","flows":["token"],"export":{"access_token":["A"]}}"#, "$.api"),
        (#"{"schema_version":1,"name":"notion","flows":["token"],"api":{"base_url":"https://x"},"mcp":{"url":"http://mcp.example.com/mcp"},"export":{"access_token":["A"]}}"#, "$.mcp.url"),
        (#"{"schema_version":1,"name":"notion","flows":["token"],"api":{"base_url":"https://x"},"mcp":{},"export":{"access_token":["A"]}}"#, "$.mcp.url"),
        (#"{"schema_version":1,"name":"notion","flows":["token"],"api":{"base_url":"https://x"},"mcp":"https://x/mcp","export":{"access_token":["A"]}}"#, "$.mcp"),
        (#"["not an object"]"#, "$"),
        (#"{"schema_version":1,"name":"notion""#, "$"),
    ])
    func malformedDefinitionNamesFileAndField(json: String, path: String) async throws {
        let sandbox = try Sandbox()
        try sandbox.writeProvider("notion", json)
        let result = await sandbox.runInProcess(["get", "notion"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(sandbox.providersDirectory)/notion.json: \(path):"), "\(result.stderr)")
        #expect(await sandbox.runInProcess(["list"]).status == 1)
    }

    @Test func unknownKeysAreWarningsNotErrors() async throws {
        let sandbox = try Sandbox()
        let json = try String(contentsOfFile: Self.providersDirectory + "/notion.json", encoding: .utf8)
            .replacingOccurrences(of: "\"display_name\"", with: "\"colour\": \"blue\", \"display_name\"")
        try sandbox.writeProvider("notion", json)
        let result = await sandbox.runInProcess(["inspect", "notion"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("warning: \(sandbox.providersDirectory)/notion.json: $.colour: unknown key, ignored"))
    }

    @Test func nonUTF8AndOversizedFilesAreRefused() async throws {
        let sandbox = try Sandbox()
        try FileManager.default.createDirectory(atPath: sandbox.providersDirectory, withIntermediateDirectories: true)
        try Data([0x7b, 0xff, 0xfe, 0x7d]).write(to: URL(fileURLWithPath: sandbox.providersDirectory + "/notion.json"))
        #expect(await sandbox.runInProcess(["inspect", "notion"]).stderr.contains("$: the file is not valid UTF-8"))
        try Data(repeating: 0x20, count: 2 << 20).write(to: URL(fileURLWithPath: sandbox.providersDirectory + "/notion.json"))
        #expect(await sandbox.runInProcess(["inspect", "notion"]).stderr.contains("larger than 1 MiB"))
    }

    @Test func loopbackHttpIsAllowedAndEverythingElseNeedsHttps() {
        #expect(EndpointPolicy.problem(with: "https://api.notion.com/v1") == nil)
        #expect(EndpointPolicy.problem(with: "http://127.0.0.1:8080/x") == nil)
        #expect(EndpointPolicy.problem(with: "http://localhost/x") == nil)
        #expect(EndpointPolicy.problem(with: "http://[::1]:99/x") == nil)
        #expect(EndpointPolicy.problem(with: "http://127.0.0.1.evil.com/x") != nil)
        #expect(EndpointPolicy.problem(with: "http://user@evil.com/x") != nil)
        #expect(EndpointPolicy.problem(with: "ftp://x/y") != nil)
        #expect(EndpointPolicy.problem(with: "notaurl") != nil)
    }

    @Test func unknownProviderSuggestsANearMissAndExits3() async throws {
        let sandbox = try Sandbox()
        let result = await sandbox.runInProcess(["get", "notoin"])
        #expect(result.status == 3)
        #expect(result.stderr == "error: no provider 'notoin'; did you mean 'notion'? run `notionauth list` to see the providers\n")
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
}
