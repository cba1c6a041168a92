import NotionAuthCore
import NotionAuthLogin
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A connection as `get` shows it: named fields, secrets masked unless asked for.
public struct ConnectionView {
    /// The stored fields, in their stored order, as `get` names them: `name` is
    /// `connection`, and the raw provider answer is not a field of its own.
    public static let fieldNames: [String] = Connection.fieldTable.compactMap { field in
        switch field.name {
        case "name": "connection"
        case "raw": nil
        default: field.name
        }
    }
    /// "provider, connection, …" for `get --help`. A plain loop: this spec is built on every
    /// run, and the generic `joined(separator:)` costs a sixth of `get` (callgrind).
    static var fieldList: String {
        var text = ""
        for name in fieldNames {
            if !text.isEmpty { text += ", " }
            text += name
        }
        return text
    }

    /// Printed only with --show-secrets.
    public static let secretFields: Set<String> = ["refresh_token"]

    let connection: Connection
    let now: Int64

    /// The value of one field in the clear, nil when the connection has none: the stored
    /// text, except where a person reads it better otherwise (times as ISO 8601, the status
    /// as of now, the owner as JSON).
    public func value(_ field: String) -> JSONValue? {
        let c = connection
        switch field {
        case "connection": return .string(c.name)
        case "status": return .string(c.effectiveStatus(now: now).rawValue)
        case "expires_at": return c.expiresAt.map { .string(Timestamp.iso8601($0)) }
        case "obtained_at": return .string(Timestamp.iso8601(c.obtainedAt))
        case "refreshed_at": return c.refreshedAt.map { .string(Timestamp.iso8601($0)) }
        case "owner": return c.owner
        case "userinfo": return c.userinfo
        default:
            guard Self.fieldNames.contains(field), let stored = Connection.fieldTable.first(where: { $0.name == field }) else { return nil }
            return stored.read(c).map(JSONValue.string)
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

extension Connection {
    /// Who an OpenID connection belongs to, for a table or a message: email, else name, else sub.
    public var userLabel: String? {
        guard let userinfo else { return nil }
        return userinfo["email"]?.stringValue ?? userinfo["name"]?.stringValue ?? userinfo["sub"]?.stringValue
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
