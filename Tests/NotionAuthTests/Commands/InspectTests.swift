import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// `inspect`: a provider's effective definition, printed as an override file would hold it.
@Suite struct InspectTests {
    @Test func inspectOutputIsAnOverrideThatChangesNothing() async throws {
        let sandbox = try Sandbox()
        let inspected = await sandbox.runInProcess(["inspect", "notion"])
        #expect(inspected.status == 0)
        #expect(inspected.stderr.isEmpty)
        try sandbox.writeProvider("notion", inspected.stdout)
        let registry = ProviderRegistry(overridesDirectory: sandbox.providersDirectory)
        let overridden = try registry.resolve(name: "notion")
        #expect(overridden.source == .override)
        #expect(overridden.warnings.isEmpty)
        #expect(overridden.definition == (try ProviderRegistry(overridesDirectory: "/nonexistent").resolve(name: "notion").definition))
    }

    @Test func inspectRedirectedStraightIntoTheOverrideFileWorks() async throws {
        let sandbox = try Sandbox()
        try FileManager.default.createDirectory(atPath: sandbox.providersDirectory, withIntermediateDirectories: true)
        let path = sandbox.providersDirectory + "/notion.json"
        let result = try await Binary.run("/bin/sh", ["-c", "\"$0\" inspect notion > \"$1\"", Binary.notionauth, path], environment: sandbox.environment, directory: sandbox.root)
        #expect(result.status == 0, "\(result.stderr)")
        let overridden = try ProviderRegistry(overridesDirectory: sandbox.providersDirectory).resolve(name: "notion")
        #expect(overridden.source == .override)
        #expect(overridden.definition == (try ProviderRegistry(overridesDirectory: "/nonexistent").resolve(name: "notion").definition))
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
}
