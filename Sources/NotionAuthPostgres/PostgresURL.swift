import NotionAuthCore
#if canImport(Glibc)
import Glibc
#endif

/// A libpq connection URI (`postgres://[user[:password]@][host][:port][/dbname][?param=value&…]`),
/// with the password completed as libpq does: the URL's, else PGPASSWORD, else the password
/// file (PGPASSFILE or ~/.pgpass, ignored unless it is 0600 or stricter).
struct PostgresURL: Sendable {
    enum SSLMode: String, Sendable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    var host = "localhost"
    var port = 5432
    var user: String
    var password: String?
    /// Whether the URL itself holds the password (as user:password@ or password=).
    var passwordInURL = false
    var database: String
    var sslMode = SSLMode.prefer
    var sslRootCert: String?
    var connectTimeoutSeconds: Int64 = 5
    /// The URL as given, less its password: safe for messages and `store status`.
    var location: String

    /// Parses `url`; the environment gives PGUSER, PGHOST, PGPORT, PGDATABASE, PGSSLMODE,
    /// PGPASSWORD, PGPASSFILE and HOME as libpq reads them.
    init(_ url: String, environment: [String: String], warn: (String) -> Void) throws(NotionauthError) {
        func invalid(_ why: String) -> NotionauthError {
            .usage("the store URL is not a PostgreSQL URL (\(why)); expected postgres://USER@HOST:PORT/DATABASE?sslmode=…", command: nil)
        }
        guard let schemeEnd = url.range(of: "://") else { throw invalid("no ://") }
        var rest = Substring(url[schemeEnd.upperBound...])
        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var userInfo: Substring?
        if let at = rest.lastIndex(of: "@") {
            userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        var urlUser: String?
        var urlPassword: String?
        if let userInfo {
            if let colon = userInfo.firstIndex(of: ":") {
                urlUser = try Self.percentDecoded(userInfo[..<colon], invalid)
                urlPassword = try Self.percentDecoded(userInfo[userInfo.index(after: colon)...], invalid)
            } else {
                urlUser = try Self.percentDecoded(userInfo, invalid)
            }
        }
        var hostText: String?
        var portText: String?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw invalid("unclosed [") }
            hostText = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = String(after.dropFirst()) }
        } else if let colon = rest.lastIndex(of: ":") {
            hostText = String(rest[..<colon])
            portText = String(rest[rest.index(after: colon)...])
        } else if !rest.isEmpty {
            hostText = String(rest)
        }
        var parameters: [String: String] = [:]
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            parameters[try Self.percentDecoded(parts[0], invalid)] = parts.count > 1 ? try Self.percentDecoded(parts[1], invalid) : ""
        }

        host = (hostText.flatMap { $0.isEmpty ? nil : try? Self.percentDecoded(Substring($0), invalid) }) ?? parameters["host"] ?? environment["PGHOST"] ?? "localhost"
        guard !host.hasPrefix("/") else { throw invalid("Unix-domain sockets are not supported; give a TCP host") }
        if let text = portText.flatMap({ $0.isEmpty ? nil : $0 }) ?? parameters["port"] ?? environment["PGPORT"] {
            guard let number = Int(text), (1...65535).contains(number) else { throw invalid("port '\(text)'") }
            port = number
        }
        user = urlUser ?? parameters["user"] ?? environment["PGUSER"] ?? Self.loginName()
        let pathDatabase = path.isEmpty ? nil : try Self.percentDecoded(path, invalid)
        database = pathDatabase ?? parameters["dbname"] ?? environment["PGDATABASE"] ?? user
        if let text = parameters["sslmode"] ?? environment["PGSSLMODE"] {
            guard let mode = SSLMode(rawValue: text) else {
                throw invalid("sslmode '\(text)'; one of disable, allow, prefer, require, verify-ca, verify-full")
            }
            sslMode = mode
        }
        sslRootCert = parameters["sslrootcert"] ?? environment["PGSSLROOTCERT"]
        if let text = parameters["connect_timeout"] ?? environment["PGCONNECT_TIMEOUT"], let seconds = Int64(text), seconds > 0 {
            connectTimeoutSeconds = seconds
        }

        // The location: the URL without its password, whatever else it holds.
        let scheme = url[..<schemeEnd.lowerBound]
        let shownUser = userInfo.map { info in info.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0] + "@" } ?? ""
        var shownQuery = query.split(separator: "&").filter { !$0.hasPrefix("password=") }.joined(separator: "&")
        if !shownQuery.isEmpty { shownQuery = "?" + shownQuery }
        location = "\(scheme)://\(shownUser)\(rest)\(path.isEmpty ? "" : "/" + path)\(shownQuery)"

        passwordInURL = urlPassword != nil || parameters["password"] != nil
        password = urlPassword ?? parameters["password"] ?? environment["PGPASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        if password == nil {
            password = Self.passwordFile(environment: environment, warn: warn)
                .flatMap { Self.lookUp(in: $0, host: host, port: port, database: database, user: user) }
        }
    }

    var hostAndPort: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    private static func percentDecoded(_ text: Substring, _ invalid: (String) -> NotionauthError) throws(NotionauthError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else {
                    throw invalid("a bad %-escape")
                }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw invalid("not UTF-8 after %-decoding") }
        return decoded
    }

    private static func loginName() -> String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "postgres"
    }

    /// The password file's text, or nil when there is none or it may not be used: like libpq,
    /// a file that group or others can read is ignored, with a warning.
    static func passwordFile(environment: [String: String], warn: (String) -> Void) -> String? {
        let path: String
        if let file = environment["PGPASSFILE"], !file.isEmpty {
            path = file
        } else if let home = environment["HOME"], !home.isEmpty {
            path = home + "/.pgpass"
        } else {
            return nil
        }
        guard let file = try? FileSystem.readFile(path) else { return nil }
        guard file.mode & 0o077 == 0 else {
            warn("password file \(path) has group or world access (mode \(octal(file.mode))); it is ignored: run `chmod 600 \(path)`")
            return nil
        }
        return String(decoding: file.bytes, as: UTF8.self)
    }

    /// The first line of a .pgpass text (`hostname:port:database:username:password`, `*`
    /// matching anything, `\:` and `\\` escaped) that matches.
    static func lookUp(in text: String, host: String, port: Int, database: String, user: String) -> String? {
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) where !line.hasPrefix("#") {
            var fields: [String] = []
            var current = ""
            var escaped = false
            for character in line {
                if escaped {
                    current.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == ":" && fields.count < 4 {
                    fields.append(current)
                    current = ""
                } else {
                    current.append(character)
                }
            }
            fields.append(current)
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            let hostMatches = fields[0] == "*" || fields[0] == host || (fields[0] == "localhost" && (host == "127.0.0.1" || host == "::1"))
            if hostMatches && zip(fields[1...3], wanted[1...3]).allSatisfy({ $0 == "*" || $0 == $1 }) {
                return fields[4]
            }
        }
        return nil
    }
}
