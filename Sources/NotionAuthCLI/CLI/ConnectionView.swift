import NotionAuthCore
import NotionAuthLogin
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A connection as `get` shows it: named fields, secrets masked unless asked for.
public struct ConnectionView {
    public static let fieldNames = [
        "provider", "connection", "status", "kind", "access_token", "refresh_token", "token_type",
        "expires_at", "obtained_at", "refreshed_at", "bot_id", "workspace_id", "workspace_name",
        "workspace_icon", "owner", "duplicated_template_id", "client_id",
    ]
    /// Printed only with --show-secrets.
    public static let secretFields: Set<String> = ["refresh_token"]

    let connection: Connection
    let now: Int64

    /// The value of one field in the clear, nil when the connection has none.
    public func value(_ field: String) -> JSONValue? {
        let c = connection
        switch field {
        case "provider": return .string(c.provider)
        case "connection": return .string(c.name)
        case "status": return .string(c.effectiveStatus(now: now).rawValue)
        case "kind": return .string(c.kind.rawValue)
        case "access_token": return .string(c.accessToken)
        case "refresh_token": return c.refreshToken.map(JSONValue.string)
        case "token_type": return c.tokenType.map(JSONValue.string)
        case "expires_at": return c.expiresAt.map { .string(Timestamp.iso8601($0)) }
        case "obtained_at": return .string(Timestamp.iso8601(c.obtainedAt))
        case "refreshed_at": return c.refreshedAt.map { .string(Timestamp.iso8601($0)) }
        case "bot_id": return c.botID.map(JSONValue.string)
        case "workspace_id": return c.workspaceID.map(JSONValue.string)
        case "workspace_name": return c.workspaceName.map(JSONValue.string)
        case "workspace_icon": return c.workspaceIcon.map(JSONValue.string)
        case "owner": return c.owner
        case "duplicated_template_id": return c.duplicatedTemplateID.map(JSONValue.string)
        case "client_id": return c.clientID.map(JSONValue.string)
        default: return nil
        }
    }

    /// Every field that has a value, secrets masked unless `showSecrets`.
    public func fields(showSecrets: Bool) -> [(String, JSONValue)] {
        Self.fieldNames.compactMap { name in
            guard let value = value(name), value != .null else { return nil }
            if name == "access_token" || Self.secretFields.contains(name), !showSecrets, case let .string(secret) = value {
                return (name, .string(Secret.mask(secret)))
            }
            return (name, value)
        }
    }
}

public enum Secret {
    /// `ntn_…abcd`: enough to recognise a token, not enough to use it.
    public static func mask(_ secret: String) -> String {
        let characters = Array(secret)
        guard characters.count >= 16 else { return "****" }
        var prefix = ""
        if let underscore = characters.prefix(8).firstIndex(of: "_") {
            prefix = String(characters[...underscore])
        }
        return prefix + "…" + String(characters.suffix(4))
    }
}

public enum Timestamp {
    /// `2026-11-21T23:25:36Z`; a time outside the years 0–9999 (only a damaged or
    /// hand-made record has one) as its Unix seconds, `@9223372036854775807`.
    public static func iso8601(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil, (-1900...8099).contains(parts.tm_year) else { return "@\(seconds)" }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// "in 45m", "2h ago", "just now": for tables people read.
    public static func relative(_ seconds: Int64, now: Int64) -> String {
        // Subtracting could overflow for a damaged record's time.
        let (delta, overflow) = seconds.subtractingReportingOverflow(now)
        if overflow { return iso8601(seconds) }
        if delta == 0 { return "just now" }
        let magnitude = delta.magnitude
        let text: String
        switch magnitude {
        case ..<60: text = "\(magnitude)s"
        case ..<3600: text = "\(magnitude / 60)m"
        case ..<86400: text = "\(magnitude / 3600)h"
        default: text = "\(magnitude / 86400)d"
        }
        return delta >= 0 ? "in \(text)" : "\(text) ago"
    }
}
