import NotionAuthCore
import NotionAuthLogin
/// `notionauth inspect PROVIDER`: the effective definition as JSON on stdout and nothing
/// else, so redirecting it into the providers directory makes an override that changes
/// nothing until edited.

struct InspectCommand: CommandDefinition {
    static let spec = CommandSpec(
        name: "inspect", synopsis: "inspect PROVIDER",
        summary: "print the effective provider definition as JSON",
        options: [],
        minPositionals: 1, maxPositionals: 1,
        details: """
        The output is a valid definition: save it as <config>/providers/PROVIDER.json to override one.

        Example:
          notionauth inspect notion > ~/.config/notionauth/providers/notion.json
        """,
        operands: .provider)

    let provider: String

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        provider = arguments.firstPositional!
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        try Self.run(provider: provider, session: session)
    }

    static func run(provider name: String, session: Session) throws(NotionauthError) -> ExitStatus {
        // `inspect notion > <config>/providers/notion.json`: the shell has already created
        // the (empty) override we are asked to write, so it must not be read as one.
        let overridePath = "\(session.providers.overridesDirectory)/\(name).json"
        let resolved = FileSystem.isStandardOutput(overridePath)
            ? try ProviderRegistry(overridesDirectory: "").resolveBundled(name: name)
            : try session.provider(name)
        session.output(resolved.definition.json.encoded(pretty: true) + "\n")
        return .success
    }
}

extension ProviderDefinition {
    /// The definition in the file schema of notionauth-providers(5), every default spelled out.
    public var json: JSONValue {
        var root: [String: JSONValue] = [
            "schema_version": .int(Int64(schemaVersion)),
            "name": .string(name),
            "display_name": .string(displayName),
            "flows": .array(flows.map { .string($0.rawValue) }),
            "token_prefixes": .array(tokenPrefixes.map(JSONValue.string)),
            "export": .object(["access_token": .array(exportAccessToken.map(JSONValue.string))]),
        ]
        if let docsURL { root["docs_url"] = .string(docsURL) }
        var api: [String: JSONValue] = ["base_url": .string(self.api.baseURL)]
        if let value = self.api.versionHeader { api["version_header"] = .string(value) }
        if let value = self.api.defaultVersion { api["default_version"] = .string(value) }
        if let value = self.api.identityPath { api["identity_path"] = .string(value) }
        root["api"] = .object(api)
        if let oauth {
            var o: [String: JSONValue] = [
                "client_auth": .string(oauth.clientAuth.rawValue),
                "token_body": .string(oauth.tokenBody.rawValue),
                "pkce": .bool(oauth.pkce),
                "scopes": .array(oauth.scopes.map(JSONValue.string)),
                "scope_separator": .string(oauth.scopeSeparator),
                "authorize_params": .object(oauth.authorizeParams.mapValues(JSONValue.string)),
            ]
            let urls: [(String, String?)] = [
                ("issuer", oauth.issuer), ("userinfo_url", oauth.userinfoURL),
                ("authorization_url", oauth.authorizationURL), ("token_url", oauth.tokenURL),
                ("revocation_url", oauth.revocationURL), ("introspection_url", oauth.introspectionURL),
                ("resource_metadata_url", oauth.resourceMetadataURL), ("resource", oauth.resource),
            ]
            for case let (key, value?) in urls { o[key] = .string(value) }
            root["oauth"] = .object(o)
        }
        var client: [String: JSONValue] = [:]
        if let value = clientIDEnvironment { client["client_id"] = .string(value) }
        if let value = clientSecretEnvironment { client["client_secret"] = .string(value) }
        root["client_env"] = .object(client)
        return .object(root)
    }
}
