import Foundation

/// Reads a provider definition from JSON, checking every field and naming the JSON path of
/// the first bad one, so a typo in an override file is found before it is used.
public enum ProviderLoader {
    public static let schemaVersion = 1

    /// Parses and validates `bytes` (the contents of `file`); unknown keys become warnings.
    public static func load(_ bytes: [UInt8], file: String, expectedName: String?) throws(NotionauthError) -> (ProviderDefinition, warnings: [String]) {
        guard bytes.count <= 1 << 20 else {
            throw .invalidProvider(file: file, jsonPath: "$", message: "the file is larger than 1 MiB")
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw .invalidProvider(file: file, jsonPath: "$", message: "the file is not valid UTF-8")
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            throw .invalidProvider(file: file, jsonPath: "$", message: "not valid JSON: \(jsonErrorSummary(bytes))")
        }
        return try validate(json, file: file, expectedName: expectedName)
    }

    /// Validates an already parsed definition (bundled ones are compiled in parsed).
    public static func validate(_ json: JSONValue, file: String, expectedName: String?) throws(NotionauthError) -> (ProviderDefinition, warnings: [String]) {
        var reader = FieldReader(file: file)
        let definition = try reader.definition(json, expectedName: expectedName)
        return (definition, reader.warnings)
    }

    /// JSONDecoder says only "not valid JSON"; JSONSerialization says where and why
    /// ("Invalid value around character 6."), so it is asked on this error path only.
    private static func jsonErrorSummary(_ bytes: [UInt8]) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            return "unreadable"
        } catch {
            return ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "unreadable"
        }
    }
}

private struct FieldReader {
    let file: String
    var warnings: [String] = []

    init(file: String) { self.file = file }

    func fail(_ path: String, _ message: String) -> NotionauthError {
        .invalidProvider(file: file, jsonPath: path, message: message)
    }

    mutating func object(_ value: JSONValue?, at path: String, known: Set<String>) throws(NotionauthError) -> [String: JSONValue] {
        guard case let .object(object)? = value else {
            throw fail(path, value == nil ? "missing (expected an object)" : "expected an object, found \(value!.typeName)")
        }
        for key in object.keys.sorted() where !known.contains(key) {
            warnings.append("\(file): \(path).\(key): unknown key, ignored")
        }
        return object
    }

    func string(_ object: [String: JSONValue], _ key: String, at path: String) throws(NotionauthError) -> String {
        guard let value = try optionalString(object, key, at: path) else { throw fail("\(path).\(key)", "missing (expected a string)") }
        return value
    }

    func optionalString(_ object: [String: JSONValue], _ key: String, at path: String) throws(NotionauthError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case let .string(value)?:
            guard !value.isEmpty else { throw fail("\(path).\(key)", "must not be empty") }
            return value
        case let other?: throw fail("\(path).\(key)", "expected a string, found \(other.typeName)")
        }
    }

    func strings(_ object: [String: JSONValue], _ key: String, at path: String) throws(NotionauthError) -> [String] {
        switch object[key] {
        case nil, .null?: return []
        case let .array(items)?:
            var result: [String] = []
            for (i, item) in items.enumerated() {
                guard case let .string(value) = item, !value.isEmpty else {
                    throw fail("\(path).\(key)[\(i)]", "expected a non-empty string, found \(item.typeName)")
                }
                result.append(value)
            }
            return result
        case let other?: throw fail("\(path).\(key)", "expected an array of strings, found \(other.typeName)")
        }
    }

    func bool(_ object: [String: JSONValue], _ key: String, at path: String, default fallback: Bool) throws(NotionauthError) -> Bool {
        switch object[key] {
        case nil: return fallback
        case let .bool(value)?: return value
        case let other?: throw fail("\(path).\(key)", "expected true or false, found \(other.typeName)")
        }
    }

    func choice<T: RawRepresentable & CaseIterable>(_ object: [String: JSONValue], _ key: String, at path: String, default fallback: T) throws(NotionauthError) -> T where T.RawValue == String {
        guard let raw = try optionalString(object, key, at: path) else { return fallback }
        guard let value = T(rawValue: raw) else {
            throw fail("\(path).\(key)", "'\(raw)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    func endpoint(_ object: [String: JSONValue], _ key: String, at path: String) throws(NotionauthError) -> String? {
        guard let url = try optionalString(object, key, at: path) else { return nil }
        if let problem = EndpointPolicy.problem(with: url) { throw fail("\(path).\(key)", problem) }
        return url
    }

    func environmentName(_ value: String, at path: String) throws(NotionauthError) -> String {
        let valid = value.utf8.first.map { !($0 >= 48 && $0 <= 57) } == true
            && value.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
        guard valid else { throw fail(path, "'\(value)' is not a valid environment variable name") }
        return value
    }

    mutating func definition(_ json: JSONValue, expectedName: String?) throws(NotionauthError) -> ProviderDefinition {
        let root = try object(json, at: "$", known: [
            "schema_version", "name", "display_name", "docs_url", "flows", "oauth", "api",
            "token_prefixes", "export", "client_env", "mcp",
        ])
        guard let version = root["schema_version"]?.int64Value else {
            throw fail("$.schema_version", root["schema_version"] == nil ? "missing (expected 1)" : "expected a whole number")
        }
        guard version == Int64(ProviderLoader.schemaVersion) else {
            throw fail("$.schema_version", "version \(version) is not supported (this notionauth reads \(ProviderLoader.schemaVersion))")
        }
        let name = try string(root, "name", at: "$")
        guard ProviderName.isValid(name) else {
            throw fail("$.name", "'\(name)' is not a valid provider name (lowercase letters, digits and '-', at most 64)")
        }
        if let expectedName, expectedName != name {
            throw fail("$.name", "'\(name)' does not match the file name '\(expectedName).json'")
        }
        let displayName = try optionalString(root, "display_name", at: "$") ?? name
        let docsURL = try optionalString(root, "docs_url", at: "$")

        var flows: [ProviderDefinition.Flow] = []
        for (i, raw) in try strings(root, "flows", at: "$").enumerated() {
            guard let flow = ProviderDefinition.Flow(rawValue: raw) else {
                throw fail("$.flows[\(i)]", "'\(raw)' is not one of \(ProviderDefinition.Flow.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            flows.append(flow)
        }
        guard !flows.isEmpty else { throw fail("$.flows", "must list at least one flow") }

        var oauth: ProviderDefinition.OAuth?
        if let oauthValue = root["oauth"], oauthValue != .null {
            let o = try object(oauthValue, at: "$.oauth", known: [
                "issuer", "authorization_url", "token_url", "revocation_url", "introspection_url", "userinfo_url",
                "scope_separator", "resource_metadata_url", "resource", "client_auth", "token_body", "pkce", "scopes", "authorize_params",
            ])
            var params: [String: String] = [:]
            if let paramsValue = o["authorize_params"], paramsValue != .null {
                guard case let .object(p) = paramsValue else {
                    throw fail("$.oauth.authorize_params", "expected an object, found \(paramsValue.typeName)")
                }
                for (key, value) in p {
                    guard case let .string(text) = value else {
                        throw fail("$.oauth.authorize_params.\(key)", "expected a string, found \(value.typeName)")
                    }
                    params[key] = text
                }
            }
            let separator = try optionalString(o, "scope_separator", at: "$.oauth") ?? " "
            // It lands in a URL and joins scopes the provider splits again: one visible
            // ASCII character or a space, nothing a scope itself could be confused with.
            guard separator.utf8.count == 1, let byte = separator.utf8.first, byte >= 0x20, byte < 0x7F,
                  !"\"#%&=?\\".utf8.contains(byte) else {
                throw fail("$.oauth.scope_separator", "must be one character such as ' ' or ','")
            }
            let issuer = try endpoint(o, "issuer", at: "$.oauth")
            if let issuer, issuer.contains("?") || issuer.contains("#") {
                throw fail("$.oauth.issuer", "an issuer has no query or fragment (RFC 8414 §2)")
            }
            oauth = ProviderDefinition.OAuth(
                issuer: issuer,
                authorizationURL: try endpoint(o, "authorization_url", at: "$.oauth"),
                tokenURL: try endpoint(o, "token_url", at: "$.oauth"),
                revocationURL: try endpoint(o, "revocation_url", at: "$.oauth"),
                introspectionURL: try endpoint(o, "introspection_url", at: "$.oauth"),
                userinfoURL: try endpoint(o, "userinfo_url", at: "$.oauth"),
                resourceMetadataURL: try endpoint(o, "resource_metadata_url", at: "$.oauth"),
                resource: try endpoint(o, "resource", at: "$.oauth"),
                clientAuth: try choice(o, "client_auth", at: "$.oauth", default: .basic),
                tokenBody: try choice(o, "token_body", at: "$.oauth", default: .form),
                pkce: try bool(o, "pkce", at: "$.oauth", default: false),
                scopes: try strings(o, "scopes", at: "$.oauth"),
                scopeSeparator: separator,
                authorizeParams: params)
        }
        if flows.contains(.authorizationCode) {
            guard let oauth else { throw fail("$.oauth", "missing (the authorization_code flow needs it)") }
            // With an issuer, discovery supplies what is left out; an endpoint written out wins.
            if oauth.issuer == nil {
                if oauth.authorizationURL == nil { throw fail("$.oauth.authorization_url", "missing (the authorization_code flow needs it, or an issuer to discover it from)") }
                if oauth.tokenURL == nil { throw fail("$.oauth.token_url", "missing (the authorization_code flow needs it, or an issuer to discover it from)") }
            }
        }
        if flows.contains(.dynamicRegistration) {
            guard let oauth else { throw fail("$.oauth", "missing (the dynamic_registration flow needs it)") }
            if oauth.resourceMetadataURL == nil {
                throw fail("$.oauth.resource_metadata_url", "missing (the dynamic_registration flow discovers its server from it)")
            }
            if !oauth.pkce { throw fail("$.oauth.pkce", "the dynamic_registration flow requires PKCE (true)") }
            if oauth.issuer != nil { throw fail("$.oauth.issuer", "the dynamic_registration flow discovers its issuer from resource_metadata_url") }
        }

        let api = try object(oauth?.issuer != nil && root["api"] == nil ? .object([:]) : root["api"], at: "$.api", known: ["base_url", "version_header", "default_version", "identity_path"])
        // A generic OpenID provider has no API of its own to name: its issuer stands in.
        guard let baseURL = try endpoint(api, "base_url", at: "$.api") ?? oauth?.issuer else { throw fail("$.api.base_url", "missing (expected a string)") }
        let identityPath = try optionalString(api, "identity_path", at: "$.api")
        if let identityPath, !identityPath.hasPrefix("/") { throw fail("$.api.identity_path", "must start with '/'") }
        let versionHeader = try optionalString(api, "version_header", at: "$.api")
        let defaultVersion = try optionalString(api, "default_version", at: "$.api")
        if versionHeader != nil && defaultVersion == nil {
            throw fail("$.api.default_version", "missing (version_header needs a default version)")
        }

        var mcp: ProviderDefinition.MCP?
        if let mcpValue = root["mcp"], mcpValue != .null {
            let m = try object(mcpValue, at: "$.mcp", known: ["url"])
            guard let url = try endpoint(m, "url", at: "$.mcp") else { throw fail("$.mcp.url", "missing (expected a string)") }
            mcp = ProviderDefinition.MCP(url: url)
        }

        let export = try object(root["export"], at: "$.export", known: ["access_token"])
        var exportNames: [String] = []
        for (i, name) in try strings(export, "access_token", at: "$.export").enumerated() {
            exportNames.append(try environmentName(name, at: "$.export.access_token[\(i)]"))
        }
        guard !exportNames.isEmpty else { throw fail("$.export.access_token", "must list at least one variable name") }

        var clientID: String?
        var clientSecret: String?
        if let clientValue = root["client_env"], clientValue != .null {
            let c = try object(clientValue, at: "$.client_env", known: ["client_id", "client_secret"])
            clientID = try optionalString(c, "client_id", at: "$.client_env").map { (v) throws(NotionauthError) in try environmentName(v, at: "$.client_env.client_id") }
            clientSecret = try optionalString(c, "client_secret", at: "$.client_env").map { (v) throws(NotionauthError) in try environmentName(v, at: "$.client_env.client_secret") }
        }

        return ProviderDefinition(
            schemaVersion: Int(version), name: name, displayName: displayName, docsURL: docsURL,
            flows: flows, oauth: oauth,
            api: .init(baseURL: baseURL, versionHeader: versionHeader, defaultVersion: defaultVersion, identityPath: identityPath),
            mcp: mcp,
            tokenPrefixes: try strings(root, "token_prefixes", at: "$"),
            exportAccessToken: exportNames,
            clientIDEnvironment: clientID, clientSecretEnvironment: clientSecret)
    }
}

public enum ProviderName {
    /// Lowercase letters, digits and '-', starting with a letter or digit: safe in file names and record names.
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 64, first != UInt8(ascii: "-") else { return false }
        return name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
    }
}

/// Remote endpoints must use https; plain http is allowed only on loopback, which is how
/// tests (and local development servers) stand in for the provider.
public enum EndpointPolicy {
    public static func problem(with url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return "'\(url)' is not an absolute URL" }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let host = self.host(of: url)
        guard let host, !host.isEmpty else { return "'\(url)' has no host" }
        switch scheme {
        case "https": return nil
        case "http": return isLoopback(host) ? nil : "'\(url)' must use https (plain http only on 127.0.0.1, localhost or [::1])"
        default: return "'\(url)' must use https"
        }
    }

    public static func host(of url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        var authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            return String(authority[...close]).lowercased()
        }
        return String(authority.prefix { $0 != ":" }).lowercased()
    }

    public static func isLoopback(_ host: String) -> Bool {
        host == "127.0.0.1" || host == "localhost" || host == "[::1]"
    }
}
