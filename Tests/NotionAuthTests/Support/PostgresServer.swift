import Foundation
import Testing
@testable import NotionAuthCore

/// A real PostgreSQL server for the store tests: the one scripts/test starts for the whole
/// run (lib.sh's `postgres_start`), or a private one for a test that stops its server.
///
/// Each test takes a fresh database with `makeDatabase()`, so tests stay independent and
/// run in parallel. Never stop the shared server: other tests are using it at the same time;
/// a test that stops or restarts a server takes its own with `withPrivate`.
struct PostgresServer: Sendable {
    /// A role that may create databases (not a superuser), on the `postgres` database.
    let url: String
    /// The server's programs: psql, pg_dump, pg_ctl, pg_isready.
    let bin: String
    let data: String
    /// The OS user the server runs as; pg_ctl must run as it.
    let osUser: String
    /// The certificate of the server's TLS (for sslrootcert); nil for a server without TLS.
    let ca: String?

    /// The server scripts/test started. Missing variables fail the test: a store test that
    /// skipped without a server would prove nothing.
    static func shared() throws -> PostgresServer {
        let environment = ProcessInfo.processInfo.environment
        func variable(_ name: String) throws -> String {
            try #require(
                environment[name].flatMap { $0.isEmpty ? nil : $0 },
                "\(name) is not set: run the tests through scripts/test, which starts a PostgreSQL server")
        }
        return PostgresServer(
            url: try variable("NOTIONAUTH_TEST_POSTGRES_URL"),
            bin: try variable("NOTIONAUTH_TEST_POSTGRES_BIN"),
            data: try variable("NOTIONAUTH_TEST_POSTGRES_DATA"),
            osUser: try variable("NOTIONAUTH_TEST_POSTGRES_USER"),
            ca: environment["NOTIONAUTH_TEST_POSTGRES_CA"].flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The shared server's URL (its `postgres` database).
    static var url: String { get throws { try shared().url } }

    /// A fresh, empty database on the shared server; returns its postgres:// URL.
    static func makeDatabase() async throws -> String {
        try await shared().makeDatabase()
    }

    /// A fresh, empty database on this server, owned by the test role; returns its URL.
    func makeDatabase() async throws -> String {
        let name = "notionauth_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await Self.psql(databaseURL: url, sql: "CREATE DATABASE \(name);")
        var components = try Self.parse(url)
        components.path = "/" + name
        return try #require(components.string)
    }

    /// Runs SQL (any number of statements, stopping at the first error) and returns what
    /// psql prints for it unaligned and without headers: one row a line, columns split by `|`.
    @discardableResult
    static func psql(databaseURL: String, sql: String) async throws -> String {
        try await client("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"], databaseURL: databaseURL, stdin: sql)
    }

    /// Everything the database holds, as pg_dump's plain SQL text: what someone with a
    /// backup of it would see.
    static func dump(databaseURL: String) async throws -> String {
        try await client("pg_dump", ["--format=plain", "--no-owner"], databaseURL: databaseURL, stdin: nil)
    }

    /// Starts a server of its own for `body` (the same `postgres_start` as scripts/test), and
    /// stops and removes it afterwards, whatever `body` does. For tests that stop or restart
    /// the server.
    static func withPrivate<T>(tls: Bool = true, _ body: (PostgresServer) async throws -> T) async throws -> T {
        let server = try await startPrivate(tls: tls)
        do {
            let result = try await body(server)
            try await server.remove()
            return result
        } catch {
            try? await server.remove()
            throw error
        }
    }

    /// Stops the server (fast shutdown: sessions are disconnected, nothing is lost).
    func stop() async throws {
        try await pgCtl("stop")
    }

    /// Starts the server again and waits until it accepts connections.
    func start() async throws {
        try await pgCtl("start")
        try await waitUntilReady()
    }

    func restart() async throws {
        try await pgCtl("restart")
        try await waitUntilReady()
    }

    private static func startPrivate(tls: Bool) async throws -> PostgresServer {
        let script = """
            source "$1/scripts/lib.sh" && postgres_start >&2 && printf '%s\\n' \
                "$NOTIONAUTH_TEST_POSTGRES_URL" "$NOTIONAUTH_TEST_POSTGRES_BIN" \
                "$NOTIONAUTH_TEST_POSTGRES_DATA" "$NOTIONAUTH_TEST_POSTGRES_USER" "$NOTIONAUTH_TEST_POSTGRES_CA"
            """
        var environment = baseEnvironment
        environment["NOTIONAUTH_TEST_POSTGRES_TLS"] = tls ? "on" : "off"
        let result = try await Binary.run(
            "/bin/bash", ["-c", script, "bash", Binary.repositoryRoot],
            environment: environment, directory: Binary.repositoryRoot, timeoutSeconds: 120)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard result.status == 0, lines.count >= 5 else {
            throw NotionauthError.failure("could not start a private PostgreSQL server: \(result.stderr)")
        }
        return PostgresServer(url: lines[0], bin: lines[1], data: lines[2], osUser: lines[3], ca: lines[4].isEmpty ? nil : lines[4])
    }

    private func remove() async throws {
        var environment = Self.baseEnvironment
        environment["NOTIONAUTH_TEST_POSTGRES_BIN"] = bin
        environment["NOTIONAUTH_TEST_POSTGRES_DATA"] = data
        environment["NOTIONAUTH_TEST_POSTGRES_USER"] = osUser
        let result = try await Binary.run(
            "/bin/bash", ["-c", "source \"$1/scripts/lib.sh\" && postgres_stop", "bash", Binary.repositoryRoot],
            environment: environment, directory: Binary.repositoryRoot, timeoutSeconds: 60)
        guard result.status == 0 else { throw NotionauthError.failure("could not remove the private PostgreSQL server: \(result.stderr)") }
    }

    /// lib.sh's postgres_ctl: pg_ctl as the server's OS user (postgres refuses to run as
    /// root), and a server that holds none of this process's descriptors.
    private func pgCtl(_ action: String) async throws {
        let result = try await Binary.run(
            "/bin/bash", ["-c", "source \"$1/scripts/lib.sh\" && postgres_ctl \"${@:2}\"", "bash", Binary.repositoryRoot, bin, data, osUser, action],
            environment: Self.baseEnvironment, directory: Binary.repositoryRoot, timeoutSeconds: 60)
        guard result.status == 0 else {
            throw NotionauthError.failure("pg_ctl \(action) failed (\(result.status)): \(result.stderr)\(result.stdout)")
        }
    }

    private func waitUntilReady() async throws {
        let components = try Self.parse(url)
        let port = try #require(components.port)
        let deadline = Date().addingTimeInterval(30)
        while true {
            let result = try await Binary.run(
                bin + "/pg_isready", ["-q", "-h", "127.0.0.1", "-p", String(port), "-d", "postgres", "-t", "1"],
                environment: Self.baseEnvironment, directory: "/", timeoutSeconds: 10)
            if result.status == 0 { return }
            guard Date() < deadline else { throw NotionauthError.failure("PostgreSQL on port \(port) not ready after 30 s") }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
    }

    /// Runs a client program against `databaseURL`, with the URL's password in PGPASSWORD,
    /// never in argv, and no ~/.pgpass or service file to stand in for a wrong password.
    private static func client(_ program: String, _ arguments: [String], databaseURL: String, stdin: String?) async throws -> String {
        var components = try parse(databaseURL)
        var environment = baseEnvironment
        environment["PGPASSWORD"] = components.password ?? ""
        environment["PGPASSFILE"] = "/dev/null"
        environment["PGCONNECT_TIMEOUT"] = "10"
        components.password = nil
        let target = try #require(components.string)
        let bin = try shared().bin
        let result = try await Binary.run(
            bin + "/" + program, arguments + ["--dbname=" + target], stdin: stdin,
            environment: environment, directory: "/", timeoutSeconds: 60)
        guard result.status == 0 else {
            throw NotionauthError.failure("\(program) on \(target) failed (\(result.status)): \(result.stderr)")
        }
        return result.stdout
    }

    private static func parse(_ url: String) throws -> URLComponents {
        try #require(URLComponents(string: url), "not a URL: a postgres:// URL was expected")
    }

    /// Only what the client programs need: nothing from the test run's own environment
    /// (PGHOST, PGUSER, …) changes where they connect.
    private static var baseEnvironment: [String: String] {
        ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LANG": "C.UTF-8"]
    }
}
