@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthCLI

/// Many processes at once against one store: writers, readers, refresh storms and writers
/// killed at random, on the file vault and on PostgreSQL.
///
/// These saturate a small machine for seconds. scripts/test runs them in a pass of their own,
/// one at a time, after the rest: run beside other tests they starved them of CPU until
/// loopback connects and logins timed out (every test's own bounds are met when alone).
@Suite(.serialized) struct LoadTests {
    /// 200 writers (token logins, logouts, refreshes) killed with SIGKILL at random moments:
    /// after every kill the vault opens and holds every connection whose writer exited 0.
    @Test func writersKilledAtRandom200TimesNeverLoseACompletedWrite() async throws {
        let setup = try await BrowserLoginSetup.loggedIn(lifetime: 120)
        defer { setup.server.stopNow() }
        let sandbox = setup.sandbox
        // What must be there: everything a writer finished adding and no finished logout removed.
        var mustExist = try #require(await HardeningTests.connectionNames(sandbox))
        var kills = 0
        for round in 0..<200 {
            let arguments: [String]
            var stdin: String?
            var adding: String?
            var removing: String?
            switch round % 4 {
            case 0, 1:
                adding = "notion/k\(round)"
                arguments = ["login", "notion", "--with-token", "--no-verify", "--connection", "k\(round)"]
                stdin = "ntn_kill_\(round)_abcdefghijklmnop"
            case 2:
                guard let victim = mustExist.filter({ $0.hasPrefix("notion/k") }).sorted().first else { continue }
                removing = victim
                arguments = ["logout", "notion", "--connection", String(victim.dropFirst("notion/".count)), "--keep-remote"]
            default:
                // Due for refresh, so this reader writes a rotated pair.
                try await sandbox.makeDue()
                arguments = ["get", "notion", "--field", "access_token"]
            }
            let (finished, killed) = try await Self.runKillingAtRandom(sandbox, arguments, stdin: stdin, withinNanoseconds: 12_000_000)
            if killed { kills += 1 }
            if finished, let adding { mustExist.insert(adding) }
            // A logout, finished or killed, may have removed its victim: no longer required.
            if let removing { mustExist.remove(removing) }
            let names = await HardeningTests.connectionNames(sandbox)
            #expect(names != nil, "round \(round): the vault does not open")
            if let names {
                #expect(mustExist.isSubset(of: names), "round \(round): lost \(mustExist.subtracting(names))")
            }
        }
        #expect(kills > 50, "too few writers were actually killed mid-run (\(kills))")
    }

    @Test func fiftyConcurrentWritersAllLand() async throws {
        let sandbox = try Sandbox()
        let processes = try (0..<50).map { i in
            try Binary.start(Binary.notionauth, ["login", "notion", "--with-token", "--no-verify", "--connection", "p\(i)"], stdin: "ntn_fifty_\(i)_abcdefghijkl", environment: sandbox.environment, directory: sandbox.root)
        }
        for started in processes {
            try await Binary.wait(started.process, timeoutSeconds: 120)
            #expect(Binary.collect(started).status == 0)
        }
        #expect(await HardeningTests.connectionNames(sandbox)?.count == 50)
    }

    @Test func fiftyReadersDuringTenWritersAllSucceedAndSeeAConsistentVault() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_reader_base_abcdefghij").status == 0)
        var all: [Binary.Started] = []
        for i in 0..<60 {
            if i % 6 == 0 {
                all.append(try Binary.start(Binary.notionauth, ["login", "notion", "--with-token", "--no-verify", "--connection", "w\(i)"], stdin: "ntn_writer_\(i)_abcdefghij", environment: sandbox.environment, directory: sandbox.root))
            } else {
                all.append(try Binary.start(Binary.notionauth, ["--json", "list"], stdin: nil, environment: sandbox.environment, directory: sandbox.root))
            }
        }
        for (i, started) in all.enumerated() {
            try await Binary.wait(started.process, timeoutSeconds: 120)
            let result = Binary.collect(started)
            #expect(result.status == 0, "process \(i): \(result.stderr)")
            if i % 6 != 0 {
                // A reader sees a whole vault: the base connection always, parseable JSON.
                #expect(result.stdout.contains("\"name\":\"default\""), "reader \(i)")
            }
        }
        #expect(await HardeningTests.connectionNames(sandbox)?.count == 11)
    }

    /// Two machines (two config directories) on one database and one key, the token due:
    /// every process hands out the same new token and the provider sees one refresh.
    @Test(arguments: [20, 50])
    func concurrentGetsOnTwoMachinesCauseExactlyOneRefresh(processes: Int) async throws {
        let setup = try await BrowserLoginSetup.loggedIn(lifetime: 120)
        defer { setup.server.stopNow() }
        setup.server.setTokenEndpointDelay(milliseconds: 300)
        let first = setup.sandbox
        try await first.moveToPostgres()
        let second = try first.anotherMachine()
        let before = setup.server.refreshRequestCount()

        let started = try (0..<processes).map { index in
            let sandbox = index % 2 == 0 ? first : second
            return try Binary.start(Binary.notionauth, ["get", "notion", "--field", "access_token"], stdin: nil, environment: sandbox.environment, directory: sandbox.root)
        }
        var tokens = Set<String>()
        for process in started {
            try await Binary.wait(process.process, timeoutSeconds: 120)
            let result = Binary.collect(process)
            #expect(result.status == 0, "\(result.stderr)")
            tokens.insert(result.stdout)
        }
        #expect(tokens.count == 1, "every process on both machines hands out the same new token")
        #expect(setup.server.refreshRequestCount() - before == 1)
        #expect(setup.server.isActive(token: tokens.first!.trimmingCharacters(in: .newlines)))
    }
    @Test func fiftyWritersAtOnceLeaveFiftyRows() async throws {
        let database = try await PostgresServer.makeDatabase()
        let sandbox = try Sandbox()
        sandbox.useStore(database, key: Sandbox.randomVaultKey())
        #expect(try await sandbox.run(["store", "init"]).status == 0)
        let writers = try (0..<50).map { i in
            try Binary.start(Binary.notionauth, ["login", "notion", "--with-token", "--no-verify", "--connection", "p\(i)"], stdin: "ntn_fifty_\(i)_abcdefghijkl", environment: sandbox.environment, directory: sandbox.root)
        }
        for writer in writers {
            try await Binary.wait(writer.process, timeoutSeconds: 120)
            let result = Binary.collect(writer)
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(try await PostgresServer.psql(databaseURL: database, sql: "SELECT count(*) FROM notionauth_records WHERE name LIKE 'connection/notion/p%'") == "50\n")
        #expect(try await Self.listedByAProcess(sandbox)?.count == 50)
        for i in [0, 17, 49] {
            let get = try await sandbox.run(["get", "notion", "--connection", "p\(i)", "--field", "access_token"])
            #expect(get.stdout == "ntn_fifty_\(i)_abcdefghijkl\n")
        }
    }

    /// Writers (token logins, logouts) and refreshing readers killed with SIGKILL at random
    /// moments, 120 rounds: after every round the store opens and holds every connection whose
    /// writer exited 0; after a killed refresh the next client gets a token; at the end every
    /// connection hands out a token. The refreshing connection is Notion MCP's, which accepts
    /// the previous refresh token once, as a client killed between the provider's answer and
    /// its commit needs.
    @Test func clientsKilledAtRandomDuringWritesAndRefreshesLoseNothing() async throws {
        let setup = try await MCPLoginSetup.loggedIn()
        defer { setup.server.stopNow() }
        setup.server.setPreviousRefreshTokenGrace(true)
        let sandbox = setup.sandbox
        try await sandbox.moveToPostgres()
        var mustExist = try #require(try await Self.listedByAProcess(sandbox))
        #expect(mustExist == ["notion-mcp/default"])
        var kills = 0
        for round in 0..<120 {
            let arguments: [String]
            var stdin: String?
            var adding: String?
            var removing: String?
            switch round % 3 {
            case 0:
                adding = "notion/k\(round)"
                arguments = ["login", "notion", "--with-token", "--no-verify", "--connection", "k\(round)"]
                stdin = "ntn_kill_\(round)_abcdefghijklmnop"
            case 1:
                if round % 2 == 1, let victim = mustExist.filter({ $0.hasPrefix("notion/k") }).sorted().first {
                    removing = victim
                    arguments = ["logout", "notion", "--connection", String(victim.dropFirst("notion/".count)), "--keep-remote"]
                } else {
                    adding = "notion/j\(round)"
                    arguments = ["login", "notion", "--with-token", "--no-verify", "--connection", "j\(round)"]
                    stdin = "ntn_kill_\(round)_abcdefghijklmnop"
                }
            default:
                // Due for refresh, so this reader writes a rotated pair.
                try await sandbox.makeDue(provider: "notion-mcp")
                arguments = ["get", "notion-mcp", "--field", "access_token"]
            }
            // A command against the store takes some tens of milliseconds: kill anywhere in it.
            let (finished, killed) = try await Self.runKillingAtRandom(sandbox, arguments, stdin: stdin, withinNanoseconds: 60_000_000)
            if killed { kills += 1 }
            if finished, let adding { mustExist.insert(adding) }
            // A logout, finished or killed, may have removed its victim: no longer required.
            if let removing { mustExist.remove(removing) }
            if round % 3 == 2, !finished {
                // The next client gets a token: the pair was saved, or it was lost between the
                // provider's answer and the commit and the previous refresh token works once
                // more (a second kill in that window would lose the grant: Notion MCP's grace
                // is one retry).
                let next = try await sandbox.run(["get", "notion-mcp", "--field", "access_token"])
                #expect(next.status == 0, "round \(round): after a killed refresh: \(next.stderr)")
            }
            let names = try await Self.listedByAProcess(sandbox)
            #expect(names != nil, "round \(round): the store does not open")
            if let names {
                #expect(mustExist.isSubset(of: names), "round \(round): lost \(mustExist.subtracting(names))")
            }
        }
        #expect(kills >= 30, "too few clients were actually killed mid-run (\(kills))")
        #expect(setup.server.refreshRequestCount() > 0)
        for name in try #require(try await Self.listedByAProcess(sandbox)) {
            let parts = name.split(separator: "/").map(String.init)
            let get = try await sandbox.run(["get", parts[0], "--connection", parts[1], "--field", "access_token"])
            #expect(get.status == 0, "\(name) is not usable: \(get.stderr)")
        }
    }


    /// Runs notionauth and sends it SIGKILL after a random delay of up to `withinNanoseconds`
    /// if it is still running: whether it finished with status 0, and whether it was killed.
    static func runKillingAtRandom(_ sandbox: Sandbox, _ arguments: [String], stdin: String?, withinNanoseconds: UInt64) async throws -> (finished: Bool, killed: Bool) {
        let started = try Binary.start(Binary.notionauth, arguments, stdin: stdin, environment: sandbox.environment, directory: sandbox.root)
        try await Task.sleep(nanoseconds: UInt64.random(in: 0...withinNanoseconds))
        var killed = false
        if started.process.isRunning {
            kill(started.process.processIdentifier, SIGKILL)
            killed = true
        }
        try await Binary.wait(started.process, timeoutSeconds: 60)
        _ = Binary.collect(started)
        return (started.process.terminationReason == .exit && started.process.terminationStatus == 0, killed)
    }

    /// What `list` shows, run as a process: the in-process runner would block a thread of
    /// Swift concurrency's pool on the store's event loop.
    static func listedByAProcess(_ sandbox: Sandbox) async throws -> Set<String>? {
        HardeningTests.connectionNames(listedBy: try await sandbox.run(["--json", "list"]))
    }
}
