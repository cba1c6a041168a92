/// Requests to a provider's API on behalf of a stored or candidate token.
public struct ProviderAPI: Sendable {
    public let definition: ProviderDefinition
    public let context: Context

    public init(definition: ProviderDefinition, context: Context) {
        self.definition = definition
        self.context = context
    }

    /// `NOTION_VERSION` (or `NOTION_API_VERSION`) overrides the definition's default version,
    /// for providers whose version header is Notion's: they are Notion's names, and another
    /// API's version scheme has nothing to do with them.
    public var apiVersion: String? {
        if definition.api.versionHeader?.lowercased() == "notion-version" {
            for name in ["NOTION_VERSION", "NOTION_API_VERSION"] {
                if let value = context.environment[name], !value.isEmpty { return value }
            }
        }
        return definition.api.defaultVersion
    }

    public var versionHeaders: [(String, String)] {
        guard let header = definition.api.versionHeader, let version = apiVersion else { return [] }
        return [(header, version)]
    }

    /// Asks the identity endpoint who the token belongs to; a refusal is an authentication error.
    public func identity(token: String) throws(NotionauthError) -> JSONValue {
        guard let path = definition.api.identityPath else {
            throw .failure("\(definition.name) has no identity endpoint to verify a token with; use --no-verify")
        }
        let request = HTTPRequest(
            method: "GET", url: definition.api.baseURL + path,
            headers: [("Authorization", "Bearer \(token)"), ("Accept", "application/json")] + versionHeaders)
        let response = try context.http.send(request, timeoutSeconds: 30)
        switch response.status {
        case 200..<300:
            guard let json = response.json, case .object = json else {
                throw .failure("\(definition.displayName) answered \(path) with something that is not a JSON object")
            }
            return json
        case 401, 403:
            throw .authenticationFailed("\(definition.displayName) refused the token: \(ProviderErrorMessage.describe(response))")
        default:
            throw .failure("\(definition.displayName) answered \(path) with HTTP \(response.status): \(ProviderErrorMessage.describe(response))")
        }
    }
}

extension ProviderAPI {
    /// Who an OpenID Connect token belongs to: `sub`, `email` and `name` from the userinfo
    /// endpoint, nothing else (the rest may be personal and is not needed). Each is kept only
    /// if it is a short string without control characters: it is shown in terminals.
    public func userinfo(token: String, url: String) throws(NotionauthError) -> JSONValue {
        let response = try context.http.send(HTTPRequest(
            method: "GET", url: url, headers: [("Authorization", "Bearer \(token)"), ("Accept", "application/json")]), timeoutSeconds: 30)
        guard (200..<300).contains(response.status), let json = response.json, case .object = json else {
            throw .failure("\(definition.displayName) answered its userinfo endpoint with HTTP \(response.status): \(ProviderErrorMessage.describe(response))")
        }
        var kept: [String: JSONValue] = [:]
        for claim in ["sub", "email", "name"] {
            if let value = json[claim]?.stringValue, !value.isEmpty, value.utf8.count <= 256, TerminalText.sanitize(value) == value {
                kept[claim] = .string(value)
            }
        }
        guard kept["sub"] != nil else {
            throw .failure("\(definition.displayName) answered its userinfo endpoint without a usable sub")
        }
        return .object(kept)
    }
}

/// Provider errors come in two shapes: Notion's envelope (`code`, `message`) and RFC 6749's
/// (`error`, `error_description`). Either becomes one readable line.
public enum ProviderErrorMessage {
    public static func code(_ response: HTTPResponse) -> String? {
        guard let json = response.fields else { return nil }
        return json["code"]?.stringValue ?? json["error"]?.stringValue
    }

    /// What to do about an error that has a usual cause, for a person or an agent.
    public static func hint(for response: HTTPResponse) -> String? {
        switch code(response) {
        case "object_not_found":
            "the page or database may exist but not be shared with the integration: in Notion, open it, then ••• → Connections → add the integration"
        case "restricted_resource":
            "the integration lacks a capability this request needs (read, update or insert content, comments, user information); enable it in the integration's settings"
        default:
            nil
        }
    }

    /// One line, made safe for a terminal: every part of it is the provider's text.
    public static func describe(_ response: HTTPResponse) -> String {
        TerminalText.sanitize(describeUnsafe(response))
    }

    private static func describeUnsafe(_ response: HTTPResponse) -> String {
        guard let json = response.fields else {
            return response.body.isEmpty ? "HTTP \(response.status)" : "HTTP \(response.status) (not JSON)"
        }
        let code = json["code"]?.stringValue ?? json["error"]?.stringValue
        let message = json["message"]?.stringValue ?? json["error_description"]?.stringValue
        switch (code, message) {
        case let (code?, message?): return "\(message) (\(code))"
        case let (code?, nil): return code
        case let (nil, message?): return message
        default: return "HTTP \(response.status)"
        }
    }
}
