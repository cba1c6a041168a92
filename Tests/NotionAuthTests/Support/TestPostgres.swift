import Foundation
@testable import NotionAuthCore

/// The PostgreSQL server the store tests use: NOTIONAUTH_TEST_POSTGRES_URL, a superuser URL
/// (scripts/test starts the server). Unset is a failure, never a skip.
enum TestPostgres {
    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["NOTIONAUTH_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw NotionauthError.failure("NOTIONAUTH_TEST_POSTGRES_URL is not set: the store tests need a PostgreSQL server")
        }
        return url
    }

    /// A fresh, empty database on the server; its URL.
    static func makeDatabase() throws -> String {
        let name = "notionauth_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        _ = try psql(try url(), "CREATE DATABASE \(name)")
        return try databaseURL(name)
    }

    static func databaseURL(_ name: String) throws -> String {
        let base = try url()
        let query = base.firstIndex(of: "?").map { String(base[$0...]) } ?? ""
        let withoutQuery = base.firstIndex(of: "?").map { String(base[..<$0]) } ?? base
        let afterScheme = withoutQuery.range(of: "://")!.upperBound
        let authority = withoutQuery[afterScheme...].split(separator: "/", maxSplits: 1).first ?? ""
        return withoutQuery[..<afterScheme] + authority + "/" + name + query
    }

    /// Runs `sql` with psql; its unaligned, tuples-only output.
    @discardableResult
    static func psql(_ databaseURL: String, _ sql: String) throws -> String {
        try tool("psql", [databaseURL, "-X", "-v", "ON_ERROR_STOP=1", "-Atc", sql])
    }

    /// pg_dump of the whole database, as text.
    static func dump(_ databaseURL: String) throws -> String {
        try tool("/usr/lib/postgresql/15/bin/pg_dump", [databaseURL])
    }

    private static func tool(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/\(executable)")
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NotionauthError.failure("\(executable) failed: \(String(decoding: errorData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// A key for NOTIONAUTH_VAULT_KEY: base64 of 32 random bytes.
    static func randomKey() -> String {
        Sodium.randomBytes(32).withUnsafeBytes { Sodium.base64Encode($0) }
    }
}

extension Sandbox {
    /// Points this sandbox at `databaseURL` (NOTIONAUTH_STORE) with `key` (NOTIONAUTH_VAULT_KEY).
    func useStore(_ databaseURL: String, key: String) {
        environment["NOTIONAUTH_STORE"] = databaseURL
        environment["NOTIONAUTH_VAULT_KEY"] = key
    }
}
