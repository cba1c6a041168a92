import Foundation
import Testing
@testable import NotionAuthCore

/// The PostgreSQL fixture the store tests stand on, against the real server.
@Suite struct PostgresServerTests {
    @Test func eachTestGetsAFreshEmptyDatabaseOfItsOwn() async throws {
        let first = try await PostgresServer.makeDatabase()
        let second = try await PostgresServer.makeDatabase()
        #expect(first != second)
        try await PostgresServer.psql(databaseURL: first, sql: "CREATE TABLE only_here (id int);")
        let tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public';"
        #expect(try await PostgresServer.psql(databaseURL: first, sql: tables) == "1\n")
        #expect(try await PostgresServer.psql(databaseURL: second, sql: tables) == "0\n")
    }

    @Test func psqlRunsStatementsAndPrintsRowsUnaligned() async throws {
        let database = try await PostgresServer.makeDatabase()
        let rows = try await PostgresServer.psql(databaseURL: database, sql: """
            CREATE TABLE records (id int PRIMARY KEY, name text);
            INSERT INTO records VALUES (1, 'first'), (2, 'second');
            UPDATE records SET name = 'moved' WHERE id = 2;
            SELECT id, name FROM records ORDER BY id;
            """)
        #expect(rows == "1|first\n2|moved\n")
    }

    @Test func psqlStopsAtTheFirstErrorAndThrowsWithPostgresMessage() async throws {
        let database = try await PostgresServer.makeDatabase()
        let error = await #expect(throws: NotionauthError.self) {
            try await PostgresServer.psql(databaseURL: database, sql: "SELECT * FROM missing_table; CREATE TABLE after_error (id int);")
        }
        #expect(String(describing: error).contains("missing_table"))
        #expect(try await PostgresServer.psql(databaseURL: database, sql: "SELECT to_regclass('after_error') IS NULL;") == "t\n")
    }

    @Test func dumpContainsWhatTheDatabaseHolds() async throws {
        let database = try await PostgresServer.makeDatabase()
        try await PostgresServer.psql(databaseURL: database, sql: """
            CREATE TABLE records (name text, payload bytea);
            INSERT INTO records VALUES ('visible-in-the-dump', '\\xdeadbeef');
            """)
        let dump = try await PostgresServer.dump(databaseURL: database)
        #expect(dump.contains("CREATE TABLE public.records"))
        #expect(dump.contains("visible-in-the-dump"))
        #expect(dump.contains("deadbeef"))
    }

    @Test func theServerRefusesAWrongOrMissingPassword() async throws {
        let database = try await PostgresServer.makeDatabase()
        var components = try #require(URLComponents(string: database))
        #expect(components.password?.isEmpty == false)
        components.password = "not-the-password"
        let wrong = await #expect(throws: NotionauthError.self) {
            try await PostgresServer.psql(databaseURL: try #require(components.string), sql: "SELECT 1;")
        }
        #expect(String(describing: wrong).contains("password authentication failed"))
        components.password = nil
        let missing = await #expect(throws: NotionauthError.self) {
            try await PostgresServer.psql(databaseURL: try #require(components.string), sql: "SELECT 1;")
        }
        #expect(String(describing: missing).contains("password authentication failed"))
    }

    @Test func theTestRoleIsNotASuperuserSoTheStoreNeedsNoSpecialPowers() async throws {
        let database = try await PostgresServer.makeDatabase()
        let role = try await PostgresServer.psql(databaseURL: database, sql: "SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user;")
        #expect(role == "f|t\n")
    }

    @Test func aPrivateServerStopsStartsAndRestartsKeepingItsData() async throws {
        try await PostgresServer.withPrivate { server in
            #expect(server.url != (try PostgresServer.url))
            let database = try await server.makeDatabase()
            try await PostgresServer.psql(databaseURL: database, sql: "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives');")

            try await server.restart()
            #expect(try await PostgresServer.psql(databaseURL: database, sql: "SELECT v FROM kept;") == "survives\n")

            try await server.stop()
            let down = await #expect(throws: NotionauthError.self) {
                try await PostgresServer.psql(databaseURL: database, sql: "SELECT 1;")
            }
            #expect(String(describing: down).contains("127.0.0.1"))

            try await server.start()
            #expect(try await PostgresServer.psql(databaseURL: database, sql: "SELECT v FROM kept;") == "survives\n")
        }
    }

    @Test func aPrivateServerIsRemovedWhenTheTestEnds() async throws {
        let data = try await PostgresServer.withPrivate { server in server.data }
        #expect(!FileManager.default.fileExists(atPath: URL(fileURLWithPath: data).deletingLastPathComponent().path))
    }
}
