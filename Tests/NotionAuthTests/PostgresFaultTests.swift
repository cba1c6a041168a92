@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthCLI

/// The PostgreSQL store under faults, against a real server: a server restarted mid-refresh
/// loses nothing (many writers, storms and kills are in LoadTests).
@Suite struct PostgresFaultTests {
    /// The server stops while a refresh is at the provider and starts again: the pair the
    /// provider rotated to is saved once the server is back, and the next command uses it.
    @Test func aServerRestartedDuringARefreshLosesNoConnection() async throws {
        try await PostgresServer.withPrivate { server in
            let setup = try await BrowserLoginSetup.loggedIn(lifetime: 120)
            defer { setup.server.stopNow() }
            let sandbox = setup.sandbox
            try await sandbox.moveToPostgres(on: server)
            // Long enough for the server to be stopped before the provider answers.
            setup.server.setTokenEndpointDelay(milliseconds: 3000)
            let before = setup.server.refreshRequestCount()
            let get = try Binary.start(Binary.notionauth, ["get", "notion", "--field", "access_token"], stdin: nil, environment: sandbox.environment, directory: sandbox.root)
            // The refresh has reached the provider: the store's transaction and lock are open.
            let deadline = Date().addingTimeInterval(30)
            while setup.server.refreshRequestCount() == before, Date() < deadline {
                try await Task.sleep(nanoseconds: 10_000_000)
            }
            #expect(setup.server.refreshRequestCount() == before + 1)
            try await server.stop()
            try await server.start()

            try await Binary.wait(get.process, timeoutSeconds: 60)
            let result = Binary.collect(get)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("saved after reconnecting"), "\(result.stderr)")
            let token = result.stdout.trimmingCharacters(in: .newlines)
            #expect(setup.server.isActive(token: token))

            setup.server.setTokenEndpointDelay(milliseconds: 0)
            let next = try await sandbox.run(["get", "notion", "--field", "access_token"])
            #expect(next.status == 0, "\(next.stderr)")
            #expect(next.stdout == result.stdout)
            #expect(setup.server.refreshRequestCount() == before + 1)
            // The rotated refresh token was saved with it: the next refresh works.
            try await sandbox.makeDue()
            let refreshed = try await sandbox.run(["get", "notion", "--field", "access_token"])
            #expect(refreshed.status == 0, "\(refreshed.stderr)")
            #expect(refreshed.stdout != result.stdout)
            #expect(setup.server.refreshRequestCount() == before + 2)
        }
    }
}
