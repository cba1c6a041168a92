import Foundation

/// One named connection to a provider: the stored credential and what we know about it.
/// Stored as a JSON record `connection/PROVIDER/NAME` in the vault (notionauth-vault(5)).
public struct Connection: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// A token given on standard input (internal integration or personal access token).
        case token
        /// Obtained through OAuth (authorization code, or dynamic registration + PKCE).
        case oauth
    }

    public enum Status: String, Codable, CaseIterable, Sendable {
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
    public var owner: JSONValue?
    public var duplicatedTemplateID: String?
    /// The client the token was issued to (OAuth), so refresh and revoke use the same one.
    public var clientID: String?
    /// The token response exactly as received, or the identity answer for a pasted token.
    public var raw: JSONValue?

    enum CodingKeys: String, CodingKey {
        case provider, name, kind, status, owner, raw
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
        case tokenType = "token_type"
        case expiresAt = "expires_at"
        case obtainedAt = "obtained_at"
        case refreshedAt = "refreshed_at"
        case botID = "bot_id"
        case workspaceID = "workspace_id"
        case workspaceName = "workspace_name"
        case workspaceIcon = "workspace_icon"
        case duplicatedTemplateID = "duplicated_template_id"
        case clientID = "client_id"
    }

    public init(provider: String, name: String, kind: Kind, accessToken: String, obtainedAt: Int64) {
        self.provider = provider
        self.name = name
        self.kind = kind
        self.accessToken = accessToken
        self.obtainedAt = obtainedAt
        self.status = .connected
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
}

/// A provider's OAuth client, kept so the next login needs no id or secret, and for the
/// MCP server the registration it answered. Record `client/PROVIDER`.
public struct ClientCredentials: Codable, Equatable, Sendable {
    public var provider: String
    public var clientID: String
    public var clientSecret: String?
    /// The redirect URI the client was registered with (dynamic registration).
    public var redirectURI: String?
    /// Discovered authorization-server metadata and the registration response.
    public var registration: JSONValue?

    enum CodingKeys: String, CodingKey {
        case provider, registration
        case clientID = "client_id"
        case clientSecret = "client_secret"
        case redirectURI = "redirect_uri"
    }

    public init(provider: String, clientID: String, clientSecret: String?) {
        self.provider = provider
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    public static func recordName(provider: String) -> String { "client/\(provider)" }
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

/// Typed access to the records of an open vault.
extension OpenVault {
    public func connection(provider: String, name: String) throws(NotionauthError) -> Connection? {
        guard let bytes = try record(named: Connection.recordName(provider: provider, connection: name)) else { return nil }
        return try decodeRecord(Connection.self, bytes, name: Connection.recordName(provider: provider, connection: name), path: path)
    }

    /// Every connection, in record-name order (provider, then connection name).
    public func connections() throws(NotionauthError) -> [Connection] {
        var result: [Connection] = []
        for name in recordNames where name.hasPrefix("connection/") {
            if let bytes = try record(named: name) {
                result.append(try decodeRecord(Connection.self, bytes, name: name, path: path))
            }
        }
        return result
    }

    public func clientCredentials(provider: String) throws(NotionauthError) -> ClientCredentials? {
        let name = ClientCredentials.recordName(provider: provider)
        guard let bytes = try record(named: name) else { return nil }
        return try decodeRecord(ClientCredentials.self, bytes, name: name, path: path)
    }

    public var connectionCount: Int { recordNames.filter { $0.hasPrefix("connection/") }.count }
}

extension VaultContents {
    public func connection(provider: String, name: String, path: String) throws(NotionauthError) -> Connection? {
        let recordName = Connection.recordName(provider: provider, connection: name)
        guard let bytes = records[recordName] else { return nil }
        return try decodeRecord(Connection.self, bytes, name: recordName, path: path)
    }

    public mutating func store(_ connection: Connection) {
        records[connection.recordName] = encodeRecord(connection)
    }

    public mutating func removeConnection(provider: String, name: String) -> Bool {
        records.removeValue(forKey: Connection.recordName(provider: provider, connection: name)) != nil
    }

    public func clientCredentials(provider: String, path: String) throws(NotionauthError) -> ClientCredentials? {
        let name = ClientCredentials.recordName(provider: provider)
        guard let bytes = records[name] else { return nil }
        return try decodeRecord(ClientCredentials.self, bytes, name: name, path: path)
    }

    public mutating func store(_ client: ClientCredentials) {
        records[ClientCredentials.recordName(provider: client.provider)] = encodeRecord(client)
    }

    public mutating func removeClientCredentials(provider: String) {
        records.removeValue(forKey: ClientCredentials.recordName(provider: provider))
    }
}

func decodeRecord<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], name: String, path: String) throws(NotionauthError) -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    } catch {
        // Authenticated but unreadable: written by an incompatible version, never silently dropped.
        throw .vault(path: path, reason: "record '\(name)' is not in the expected format")
    }
}

func encodeRecord<T: Encodable>(_ value: T) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding plain structs of strings and numbers cannot fail.
    return Array(try! encoder.encode(value))
}
