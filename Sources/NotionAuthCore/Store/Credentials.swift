/// One named connection to a provider: the stored credential and what we know about it.
/// Stored as record `connection/PROVIDER/NAME` in the vault (notionauth-vault(5)).
public struct Connection: Equatable, Sendable, VaultRecord {
    public enum Kind: String, Sendable {
        /// A token given on standard input (internal integration or personal access token).
        case token
        /// Obtained through OAuth (authorization code, or dynamic registration + PKCE).
        case oauth
    }

    public enum Status: String, CaseIterable, Sendable {
        case notConnected = "not_connected"
        case connected, expired, revoked, invalid
    }

    public var provider: String
    public var name: String
    public var kind: Kind
    public var accessToken: String
    public var refreshToken: String?
    public var tokenType: String?
    /// Unix seconds; nil when the provider does not say (Notion's own tokens).
    public var expiresAt: Int64?
    public var obtainedAt: Int64
    public var refreshedAt: Int64?
    public var status: Status
    public var botID: String?
    public var workspaceID: String?
    public var workspaceName: String?
    public var workspaceIcon: String?
    /// JSON text of the token response's `owner` object.
    public var ownerJSON: String?
    public var duplicatedTemplateID: String?
    /// JSON text: `sub`, `email` and `name` from OpenID Connect userinfo, for providers
    /// without a Notion-style identity (no workspace).
    public var userinfoJSON: String?
    /// The client the token was issued to (OAuth), so refresh and revoke use the same one.
    public var clientID: String?
    /// JSON text of the token response exactly as received, or of the identity answer for a
    /// pasted token: "store everything you receive".
    public var rawJSON: String?

    public init(provider: String, name: String, kind: Kind, accessToken: String, obtainedAt: Int64) {
        self.provider = provider
        self.name = name
        self.kind = kind
        self.accessToken = accessToken
        self.obtainedAt = obtainedAt
        self.status = .connected
    }

    public var owner: JSONValue? {
        get { ownerJSON.flatMap { try? JSONValue.parse(Array($0.utf8)) } }
        set { ownerJSON = newValue.map { $0.encoded() } }
    }

    public var userinfo: JSONValue? {
        get { userinfoJSON.flatMap { try? JSONValue.parse(Array($0.utf8)) } }
        set { userinfoJSON = newValue.map { $0.encoded() } }
    }

    public var raw: JSONValue? {
        get { rawJSON.flatMap { try? JSONValue.parse(Array($0.utf8)) } }
        set { rawJSON = newValue.map { $0.encoded() } }
    }

    /// The status as of `now`: a connected token past its known expiry is expired.
    public func effectiveStatus(now: Int64) -> Status {
        if status == .connected, let expiresAt, expiresAt <= now { return .expired }
        return status
    }

    public static func recordName(provider: String, connection: String) -> String {
        "connection/\(provider)/\(connection)"
    }

    var recordName: String { Self.recordName(provider: provider, connection: name) }

    /// The record's fields, in the order of `fieldTable`.
    var fields: FieldRecord {
        var record = FieldRecord()
        for field in Self.fieldTable { record[field.name] = field.read(self) }
        return record
    }

    init?(fields record: FieldRecord) {
        self.init(provider: "", name: "", kind: .token, accessToken: "", obtainedAt: 0)
        for field in Self.fieldTable {
            guard let text = record[field.name] else {
                if field.required { return nil }
                continue
            }
            // A required field that does not parse makes the record unreadable; an
            // optional one counts as absent (notionauth-vault(5)).
            if !field.write(&self, text) && field.required { return nil }
        }
    }

    /// Every stored field of a connection record, in the order records are written: its name
    /// (in notionauth-vault(5) and, for most, in `get --field`) and how its text is read and
    /// written. The one list that encoding, decoding and `get`'s field names follow. Plain
    /// closures, not key paths: `get` builds this table on every run, and key paths cost a
    /// runtime type lookup each (about 0.1 ms for the table, measured with callgrind).
    public static let fieldTable: [Field] = [
        Field("provider", required: true, read: { $0.provider }, write: { $0.provider = $1; return true }),
        Field("name", required: true, read: { $0.name }, write: { $0.name = $1; return true }),
        Field("kind", required: true, read: { $0.kind.rawValue }, write: { connection, text in
            guard let kind = Kind(rawValue: text) else { return false }
            connection.kind = kind
            return true
        }),
        Field("status", required: true, read: { $0.status.rawValue }, write: { connection, text in
            guard let status = Status(rawValue: text) else { return false }
            connection.status = status
            return true
        }),
        Field("access_token", required: true, read: { $0.accessToken }, write: { $0.accessToken = $1; return true }),
        Field("refresh_token", read: { $0.refreshToken }, write: { $0.refreshToken = $1; return true }),
        Field("token_type", read: { $0.tokenType }, write: { $0.tokenType = $1; return true }),
        // Unix seconds as decimal text; an optional time that is not a number reads as absent.
        Field("expires_at", read: { $0.expiresAt.map { String($0) } }, write: { $0.expiresAt = Int64($1); return true }),
        Field("obtained_at", required: true, read: { String($0.obtainedAt) }, write: { connection, text in
            guard let time = Int64(text) else { return false }
            connection.obtainedAt = time
            return true
        }),
        Field("refreshed_at", read: { $0.refreshedAt.map { String($0) } }, write: { $0.refreshedAt = Int64($1); return true }),
        Field("bot_id", read: { $0.botID }, write: { $0.botID = $1; return true }),
        Field("workspace_id", read: { $0.workspaceID }, write: { $0.workspaceID = $1; return true }),
        Field("workspace_name", read: { $0.workspaceName }, write: { $0.workspaceName = $1; return true }),
        Field("workspace_icon", read: { $0.workspaceIcon }, write: { $0.workspaceIcon = $1; return true }),
        Field("owner", read: { $0.ownerJSON }, write: { $0.ownerJSON = $1; return true }),
        Field("duplicated_template_id", read: { $0.duplicatedTemplateID }, write: { $0.duplicatedTemplateID = $1; return true }),
        Field("client_id", read: { $0.clientID }, write: { $0.clientID = $1; return true }),
        Field("userinfo", read: { $0.userinfoJSON }, write: { $0.userinfoJSON = $1; return true }),
        Field("raw", read: { $0.rawJSON }, write: { $0.rawJSON = $1; return true }),
    ]

    /// One field of `fieldTable`.
    public struct Field: Sendable {
        public let name: String
        public let required: Bool
        public let read: @Sendable (Connection) -> String?
        /// Sets the field from its text; false when the text is not a valid value.
        let write: @Sendable (inout Connection, String) -> Bool

        init(_ name: String, required: Bool = false, read: @escaping @Sendable (Connection) -> String?, write: @escaping @Sendable (inout Connection, String) -> Bool) {
            self.name = name
            self.required = required
            self.read = read
            self.write = write
        }
    }
}

/// A provider's OAuth client, kept so the next login needs no id or secret, and for the
/// MCP server the registration it answered. Record `client/PROVIDER`.
public struct ClientCredentials: Equatable, Sendable, VaultRecord {
    public var provider: String
    public var clientID: String
    public var clientSecret: String?
    /// The redirect URI the client was registered with (dynamic registration).
    public var redirectURI: String?
    /// JSON text: discovered authorization-server metadata and the registration response.
    public var registrationJSON: String?

    public init(provider: String, clientID: String, clientSecret: String?) {
        self.provider = provider
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    public static func recordName(provider: String) -> String { "client/\(provider)" }

    var recordName: String { Self.recordName(provider: provider) }

    var fields: FieldRecord {
        var record = FieldRecord()
        record["provider"] = provider
        record["client_id"] = clientID
        record["client_secret"] = clientSecret
        record["redirect_uri"] = redirectURI
        record["registration"] = registrationJSON
        return record
    }

    init?(fields record: FieldRecord) {
        guard let provider = record["provider"], let clientID = record["client_id"] else { return nil }
        self.init(provider: provider, clientID: clientID, clientSecret: record["client_secret"])
        redirectURI = record["redirect_uri"]
        registrationJSON = record["registration"]
    }
}

/// The connection a provider's commands use when none is named (`use PROVIDER CONNECTION`);
/// without this record, `default`.
public struct ConnectionDefault: Equatable, Sendable, VaultRecord {
    public var provider: String
    public var connection: String

    public init(provider: String, connection: String) {
        self.provider = provider
        self.connection = connection
    }

    public static func recordName(provider: String) -> String { "default/\(provider)" }

    var recordName: String { Self.recordName(provider: provider) }

    var fields: FieldRecord {
        var record = FieldRecord()
        record["provider"] = provider
        record["connection"] = connection
        return record
    }

    init?(fields record: FieldRecord) {
        guard let provider = record["provider"], let connection = record["connection"], ConnectionName.isValid(connection) else { return nil }
        self.init(provider: provider, connection: connection)
    }
}

/// A record's plaintext: named UTF-8 fields. A binary layout rather than JSON so that
/// reading one connection needs no JSON decoder at all (see notionauth-vault(5)):
/// u16 count, then per field u8 name length, name, u32 value length, value.
struct FieldRecord: Equatable {
    private(set) var pairs: [(String, String)] = []

    static func == (a: FieldRecord, b: FieldRecord) -> Bool {
        a.pairs.map(\.0) == b.pairs.map(\.0) && a.pairs.map(\.1) == b.pairs.map(\.1)
    }

    subscript(name: String) -> String? {
        get { pairs.first { $0.0 == name }?.1 }
        set {
            pairs.removeAll { $0.0 == name }
            if let newValue { pairs.append((name, newValue)) }
        }
    }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        appendUInt16(&out, UInt16(pairs.count))
        for (name, value) in pairs {
            out.append(UInt8(name.utf8.count))
            out += name.utf8
            appendUInt32(&out, UInt32(value.utf8.count))
            out += value.utf8
        }
        return out
    }

    init() {}

    init?(bytes: [UInt8]) {
        var position = 0
        func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, count <= bytes.count - position else { return nil }
            defer { position += count }
            return bytes[position..<(position + count)]
        }
        guard let countBytes = take(2) else { return nil }
        let count = Int(readUInt16(Array(countBytes), at: 0))
        for _ in 0..<count {
            guard let nameLength = take(1)?.first, let name = take(Int(nameLength)),
                  let lengthBytes = take(4), let value = take(Int(readUInt32(Array(lengthBytes), at: 0))),
                  let nameText = String(validating: name, as: UTF8.self),
                  let valueText = String(validating: value, as: UTF8.self)
            else { return nil }
            pairs.append((nameText, valueText))
        }
        guard position == bytes.count else { return nil }
    }
}

/// Connection names: letters, digits, '.', '_' and '-', at most 64, so they are safe in
/// record names, file names and shell completions.
public enum ConnectionName {
    public static let defaultName = "default"

    public static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 64, !name.hasPrefix(".") , !name.hasPrefix("-") else { return false }
        return name.utf8.allSatisfy {
            ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 || $0 == 95
        }
    }
}

/// What a vault record decodes into: built from its fields, and named by them.
protocol VaultRecord {
    init?(fields: FieldRecord)
    var recordName: String { get }
}

func decodeRecord<T: VaultRecord>(_ bytes: [UInt8], name: String, path: String, as type: T.Type) throws(NotionauthError) -> T {
    switch decodedRecord(bytes, name: name, as: type) {
    case let .success(value): return value
    case let .failure(problem): throw .vault(path: path, reason: problem.reason)
    }
}

struct RecordProblem: Error {
    let reason: String
}

func decodedRecord<T: VaultRecord>(_ bytes: [UInt8], name: String, as type: T.Type) -> Result<T, RecordProblem> {
    // Authenticated but unreadable: written by an incompatible version, never silently dropped.
    guard let fields = FieldRecord(bytes: bytes), let value = T(fields: fields) else {
        return .failure(RecordProblem(reason: "record '\(name)' is not in the expected format"))
    }
    // Lookups go by the record's name and listings by its fields: a record whose fields
    // name another connection would be found by one and not the other.
    guard value.recordName == name else {
        return .failure(RecordProblem(reason: "record '\(name)' holds the fields of '\(value.recordName)'; it was not written by notionauth"))
    }
    return .success(value)
}

/// The vault's record names and plaintext encoding (notionauth-vault(5)), for stores in
/// other targets: a record means the same wherever it is kept.
public enum RecordCoding {
    public static func name(of connection: Connection) -> String { connection.recordName }
    public static func name(of client: ClientCredentials) -> String { client.recordName }
    public static func plaintext(of connection: Connection) -> [UInt8] { connection.fields.bytes }
    public static func plaintext(of client: ClientCredentials) -> [UInt8] { client.fields.bytes }
    public static func name(of choice: ConnectionDefault) -> String { choice.recordName }
    public static func plaintext(of choice: ConnectionDefault) -> [UInt8] { choice.fields.bytes }

    public static func connectionDefault(_ bytes: [UInt8], name: String, location: String) throws(NotionauthError) -> ConnectionDefault {
        switch decodedRecord(bytes, name: name, as: ConnectionDefault.self) {
        case let .success(value): return value
        case let .failure(problem): throw .store(location: location, reason: problem.reason)
        }
    }

    /// The connection in record `name`; `.store` naming the record when it does not parse.
    public static func connection(_ bytes: [UInt8], name: String, location: String) throws(NotionauthError) -> Connection {
        switch decodedRecord(bytes, name: name, as: Connection.self) {
        case let .success(value): return value
        case let .failure(problem): throw .store(location: location, reason: problem.reason)
        }
    }

    public static func client(_ bytes: [UInt8], name: String, location: String) throws(NotionauthError) -> ClientCredentials {
        switch decodedRecord(bytes, name: name, as: ClientCredentials.self) {
        case let .success(value): return value
        case let .failure(problem): throw .store(location: location, reason: problem.reason)
        }
    }
}
