import NotionAuthCore
import PostgresNIO

/// The tables (notionauth-store(5)) and the migrations that make them, in order: migration
/// N brings the schema to version N. A store whose recorded version is newer than the last
/// one here was made by a newer notionauth and is refused.
enum StoreSchema {
    static let migrations: [[PostgresQuery]] = [
        [
            """
            CREATE TABLE notionauth_store (
                singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                store_id bytea NOT NULL CHECK (length(store_id) = 16),
                created_at timestamptz NOT NULL DEFAULT now())
            """,
            """
            CREATE TABLE notionauth_namespace_keys (
                namespace text PRIMARY KEY,
                protection text NOT NULL CHECK (protection IN ('key', 'passphrase')),
                kdf_opslimit bigint,
                kdf_memlimit bigint,
                kdf_salt bytea,
                nonce bytea NOT NULL,
                wrapped_key bytea NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now())
            """,
            """
            CREATE TABLE notionauth_records (
                namespace text NOT NULL REFERENCES notionauth_namespace_keys (namespace),
                name text NOT NULL,
                nonce bytea NOT NULL,
                sealed bytea NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (namespace, name))
            """,
        ],
    ]

    static var latestVersion: Int { migrations.count }

    /// A constant key for `pg_advisory_xact_lock`, so that two `store init`s at once migrate once.
    static let migrationLockKey: Int64 = 0x6e6f_7469_6f6e_6175 // "notionau"

    /// Creates or migrates the schema and the store id, in one transaction. The versions
    /// applied (empty when it was up to date).
    static func initialize(_ link: PostgresLink) throws(NotionauthError) -> [Int] {
        try link.begin()
        do throws(NotionauthError) {
            try link.query("SELECT pg_advisory_xact_lock(\(migrationLockKey))")
            try link.query("""
                CREATE TABLE IF NOT EXISTS notionauth_schema_version (
                    version integer PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """)
            let current = try version(link) ?? 0
            guard current <= latestVersion else { throw newer(current, link) }
            var applied: [Int] = []
            for version in (current + 1)..<(latestVersion + 1) {
                for statement in migrations[version - 1] { try link.query(statement) }
                try link.query("INSERT INTO notionauth_schema_version (version) VALUES (\(version))")
                applied.append(version)
            }
            let storeID = ByteBuffer(bytes: Sodium.randomBytes(16))
            try link.query("INSERT INTO notionauth_store (store_id) VALUES (\(storeID)) ON CONFLICT DO NOTHING")
            try link.commit()
            return applied
        } catch {
            link.rollback()
            throw error
        }
    }

    /// The recorded version, or nil when the schema was never created.
    static func version(_ link: PostgresLink) throws(NotionauthError) -> Int? {
        let rows = try link.query("SELECT to_regclass('notionauth_schema_version') IS NOT NULL")
        guard let exists = try? rows.first?.decode(Bool.self), exists else { return nil }
        let versions = try link.query("SELECT coalesce(max(version), 0) FROM notionauth_schema_version")
        return (try? versions.first?.decode(Int.self)) ?? 0
    }

    static func newer(_ version: Int, _ link: PostgresLink) -> NotionauthError {
        .store(location: link.url.location, reason: "its schema is version \(version), newer than this notionauth knows (\(latestVersion)); upgrade notionauth")
    }

    static func missing(_ link: PostgresLink) -> NotionauthError {
        .store(location: link.url.location, reason: "it has no notionauth schema yet; run `notionauth store init --store URL` once")
    }
}
