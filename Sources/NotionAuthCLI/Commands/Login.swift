import NotionAuthCore
import NotionAuthLogin
public struct LoginOptions: Equatable, Sendable {
    public var provider: String
    /// Nil: the provider's default (`use`, NOTIONAUTH_CONNECTION, else `default`).
    public var connection: String?
    /// The connection once `run` has resolved it.
    var connectionName: String { connection ?? ConnectionName.defaultName }
    public var withToken = false
    public var noVerify = false
    public var force = false
    public var noBrowser = false
    /// Wait for the redirect's address to be pasted into the terminal too, whatever the
    /// session (over SSH or without a display that happens by itself).
    public var paste = false
    /// Overrides the redirect URI's port (7998 by default).
    public var port: Int?
    public var timeoutSeconds = 300
    public var clientID: String?
    public var clientSecretStdin = false
    public var resetClient = false
}

/// `notionauth login PROVIDER …`
struct LoginCommand: CommandDefinition {
    static let withToken = CommandSpec.Option("with-token", "read a token from standard input (or a no-echo prompt) instead of a browser login")
    static let noVerify = CommandSpec.Option("no-verify", "with --with-token: store the token without checking it with the provider")
    static let noBrowser = CommandSpec.Option("no-browser", "print the URL to open, but do not open a browser")
    static let paste = CommandSpec.Option("paste", "also take the address the browser is sent back to, pasted into the terminal (automatic over SSH or without a display)")
    static let port = CommandSpec.Option("port", value: "N", "listen for the browser on port N (default 7998; the redirect URI must match)")
    static let timeout = CommandSpec.Option("timeout", value: "SECONDS", "give up waiting for the browser after SECONDS (default 300)")
    static let clientId = CommandSpec.Option("client-id", value: "ID", "the OAuth client ID of your public integration")
    static let clientSecretStdin = CommandSpec.Option("client-secret-stdin", "read the OAuth client secret from standard input")
    static let resetClient = CommandSpec.Option("reset-client", "forget the stored client credentials (or MCP registration) and log in again")
    static let force = CommandSpec.Option("force", "log in again even if the connection is already logged in")
    static let spec = CommandSpec(
        name: "login", synopsis: "login PROVIDER [--connection NAME] [--with-token [--no-verify]] [--no-browser] [--paste] [--port N] [--timeout SECONDS] [--client-id ID [--client-secret-stdin]] [--reset-client] [--force]",
        summary: "log in to a provider and store the credential in the vault",
        options: [CommandSpec.connection, withToken, noVerify, noBrowser, paste, port, timeout, clientId, clientSecretStdin, resetClient, force],
        minPositionals: 1, maxPositionals: 1,
        details: """
        Browser login listens on http://127.0.0.1:7998/auth/callback/oauth (NOTION_REDIRECT_URI moves it):
        register exactly that redirect URI in your Notion public integration. The client ID and secret
        come from --client-id with --client-secret-stdin, NOTION_CLIENT_ID and NOTION_CLIENT_SECRET, an
        earlier login, or a page in the browser. notion-mcp registers itself: nothing to set up.

        Over SSH or without a display (on a terminal), or with --paste, open the URL in a browser anywhere:
        when it cannot load the page it is sent back to after consent (http://127.0.0.1:7998/auth/callback/
        oauth?code=…), copy that address from its address bar and paste it into the terminal. The listener
        keeps waiting too; the first valid answer wins.

        Examples:
          notionauth login notion
          ssh -t host notionauth login notion-mcp
          notionauth login notion-mcp --connection agent
          echo "$NOTION_TOKEN" | notionauth login notion --with-token
          printf %s "$SECRET" | notionauth login notion --client-id "$ID" --client-secret-stdin --no-browser
        """,
        operands: .provider)

    let options: LoginOptions

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        var options = LoginOptions(provider: arguments.firstPositional!)
        options.connection = try arguments.connection()
        options.withToken = arguments.flag(Self.withToken)
        options.noVerify = arguments.flag(Self.noVerify)
        options.force = arguments.flag(Self.force)
        options.noBrowser = arguments.flag(Self.noBrowser)
        options.paste = arguments.flag(Self.paste)
        options.clientSecretStdin = arguments.flag(Self.clientSecretStdin)
        options.resetClient = arguments.flag(Self.resetClient)
        options.clientID = arguments.value(Self.clientId)
        if let port = arguments.value(Self.port) {
            guard let value = Int(port), value >= 1, value <= 65535 else {
                throw .usage("--port needs a port number from 1 to 65535", command: Self.spec.name)
            }
            options.port = value
        }
        if let timeout = arguments.value(Self.timeout) {
            guard let value = Int(timeout), value >= 1 else {
                throw .usage("--timeout needs a whole number of seconds", command: Self.spec.name)
            }
            options.timeoutSeconds = value
        }
        if options.noVerify && !options.withToken {
            throw .usage("--no-verify goes with --with-token", command: Self.spec.name)
        }
        if options.withToken {
            let browserOnly = [Self.noBrowser, Self.paste, Self.clientSecretStdin, Self.resetClient].filter(arguments.flag) + [Self.port, Self.timeout, Self.clientId].filter { arguments.value($0) != nil }
            if let first = browserOnly.first {
                throw .usage("--\(first.name) is for browser login, not --with-token", command: Self.spec.name)
            }
        }
        if options.clientSecretStdin && options.clientID == nil {
            throw .usage("--client-secret-stdin goes with --client-id", command: Self.spec.name)
        }
        self.options = options
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        try Self.run(options, session: session)
    }

    static func run(_ options: LoginOptions, session: Session) throws(NotionauthError) -> ExitStatus {
        let provider = try session.provider(options.provider).definition
        // Without --connection, the provider's default (`use`) is logged in again.
        var options = options
        options.connection = try session.broker.connectionName(provider: provider.name, given: options.connection)
        if options.withToken {
            return try loginWithToken(options, provider: provider, session: session)
        }
        // --reset-client is a request to log in again with a new client.
        if !options.force && !options.resetClient, let existing = try session.store.connection(provider: provider.name, name: options.connectionName),
           existing.effectiveStatus(now: session.now) == .connected {
            session.info("Already logged in to \(provider.displayName)\(existing.workspaceSuffix) as connection '\(existing.name)'; use --force to log in again.")
            return .success
        }
        if provider.flows.contains(.dynamicRegistration) && options.clientID != nil {
            throw .usage("\(provider.name) registers its own client; --client-id is for providers with a client you registered", command: Self.spec.name)
        }
        guard provider.flows.contains(.dynamicRegistration) || provider.flows.contains(.authorizationCode) else {
            throw .usage("\(provider.name) takes tokens only; run `notionauth login \(provider.name) --with-token`", command: Self.spec.name)
        }
        let target = try RedirectTarget.resolve(environment: session.context.environment, port: options.port)
        // Before anything is changed or fetched: --paste without a terminal fails at once.
        let terminal = try pasteTerminal(options, session: session)
        // Read before --reset-client changes the store (they never come from it then), so
        // that --paste without them fails with nothing changed.
        var given: (client: ClientCredentials?, fromUser: Bool) = (nil, false)
        if !provider.flows.contains(.dynamicRegistration) {
            given = try clientCredentials(options, provider: provider, session: session)
            if given.client == nil && options.paste {
                let variables = [provider.clientIDEnvironment, provider.clientSecretEnvironment].compactMap { $0 }
                let fromEnvironment = variables.isEmpty ? "" : ", or \(variables.joined(separator: " and "))"
                throw .usage("--paste needs the client ID and secret beforehand (--client-id ID --client-secret-stdin\(fromEnvironment)): the page that asks for them is served on this machine only", command: Self.spec.name)
            }
        }
        if options.resetClient {
            try session.store.update { (changes: inout CredentialChanges) throws(NotionauthError) in
                changes.removeClientCredentials(provider: provider.name)
            }
        }
        let browser = BrowserLogin(broker: session.broker, provider: provider, target: target, openBrowser: !options.noBrowser, timeoutSeconds: options.timeoutSeconds, quiet: session.global.quiet, terminal: terminal)

        let connection: Connection
        let client: ClientCredentials
        var storeClient: Bool
        if provider.flows.contains(.dynamicRegistration) {
            (connection, client) = try loginWithRegistration(options, provider: provider, target: target, browser: browser, session: session)
            storeClient = true
        } else {
            (connection, client) = try loginWithCode(options, provider: provider, client: given.client, target: target, browser: browser, session: session)
            // A stored client whose issuer metadata was fetched again is stored with it.
            let stored = try session.store.clientCredentials(provider: provider.name)
            storeClient = given.fromUser || given.client == nil || (given.client == stored && client.registrationJSON != stored?.registrationJSON)
        }
        try session.store.update { (changes: inout CredentialChanges) throws(NotionauthError) in
            changes.store(connection)
            if storeClient { changes.store(client) }
        }
        session.info("Logged in to \(provider.displayName)\(connection.workspaceSuffix) as connection '\(connection.name)'.")
        return .success
    }

    /// Client credentials, first found wins: --client-id with --client-secret-stdin (or the
    /// secret's variable), the provider's variables, the vault (not with --reset-client); nil
    /// means the first-run page.
    /// `fromUser` says whether they were just given and so should be kept for next time.
    static func clientCredentials(_ options: LoginOptions, provider: ProviderDefinition, session: Session) throws(NotionauthError) -> (ClientCredentials?, fromUser: Bool) {
        let environment = session.context.environment
        let secretFromEnvironment = provider.clientSecretEnvironment.flatMap { environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }
        if let id = options.clientID {
            var secret = secretFromEnvironment
            if options.clientSecretStdin {
                var bytes = session.context.readStandardInput()
                defer { for i in bytes.indices { bytes[i] = 0 } }
                secret = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
            }
            guard let secret, !secret.isEmpty else {
                throw .usage("--client-id needs the secret on standard input (--client-secret-stdin)\(provider.clientSecretEnvironment.map { " or in \($0)" } ?? "")", command: Self.spec.name)
            }
            return (ClientCredentials(provider: provider.name, clientID: id, clientSecret: secret), true)
        }
        if let idName = provider.clientIDEnvironment, let id = environment[idName], !id.isEmpty, let secret = secretFromEnvironment {
            return (ClientCredentials(provider: provider.name, clientID: id, clientSecret: secret), false)
        }
        if options.resetClient { return (nil, false) }
        return (try session.store.clientCredentials(provider: provider.name), false)
    }

    /// The terminal to paste the redirect's address into: with --paste, where its absence is
    /// a usage error; by itself where a browser here is unlikely to be the person's (over SSH,
    /// no display) and standard input is a terminal, so that scripts see no prompt. Nil: the
    /// listener alone, as before.
    static func pasteTerminal(_ options: LoginOptions, session: Session) throws(NotionauthError) -> TerminalLines? {
        let context = session.context
        if options.paste {
            guard (context.environment["NOTIONAUTH_NO_PROMPT"] ?? "").isEmpty else {
                throw .usage("--paste needs a prompt on the terminal, and NOTIONAUTH_NO_PROMPT forbids it", command: Self.spec.name)
            }
            guard let terminal = context.openTerminal() else {
                throw .usage("--paste needs a terminal to paste into, and there is none (over SSH, use ssh -t)", command: Self.spec.name)
            }
            return terminal
        }
        guard context.mayPrompt, !BrowserOpener.mayOpen(environment: context.environment) else { return nil }
        return context.openTerminal()
    }

    /// Notion's public-integration flow: authorization code, client authenticated as the
    /// definition says (HTTP Basic for Notion), PKCE only where the definition supports it.
    static func loginWithCode(_ options: LoginOptions, provider: ProviderDefinition, client: ClientCredentials?, target: RedirectTarget, browser: BrowserLogin, session: Session) throws(NotionauthError) -> (Connection, ClientCredentials) {
        // With an issuer, the endpoints the definition leaves out come from its metadata.
        let (resolved, fetched) = try IssuerMetadata.resolve(provider, client: client, context: session.context)
        let oauth = resolved.oauth!
        let pkce = oauth.pkce ? PKCE() : nil
        let endpoint = try TokenEndpoint.make(provider: resolved, client: nil, context: session.context)
        let (connection, used) = try browser.run(
            client: client,
            authorizeURL: { client, state in
                var parameters = [("client_id", client.clientID), ("redirect_uri", target.uri), ("response_type", "code"), ("state", state)]
                parameters += oauth.authorizeParams.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                if let scope = oauth.scopeParameter() { parameters.append(("scope", scope)) }
                if let pkce { parameters += [("code_challenge", pkce.challenge), ("code_challenge_method", "S256")] }
                return URLEncoding.url(oauth.authorizationURL!, parameters)
            },
            exchange: { (code, client) throws(NotionauthError) -> Connection in
                var parameters = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", target.uri)]
                if let pkce { parameters.append(("code_verifier", pkce.verifier)) }
                let response = try endpoint.request(parameters, client: client)
                var connection = Connection(provider: provider.name, name: options.connectionName, tokenResponse: response, clientID: client.clientID, now: session.now)
                connection.userinfo = userinfo(of: connection, provider: resolved, session: session)
                return connection
            })
        return (connection, fetched.map { IssuerMetadata.caching($0, in: used, now: session.now) } ?? used)
    }

    /// Who the token belongs to, from OpenID Connect userinfo, where the provider has no
    /// Notion-style identity. Not knowing is a warning: the token itself is good.
    static func userinfo(of connection: Connection, provider: ProviderDefinition, session: Session) -> JSONValue? {
        guard provider.api.identityPath == nil, connection.workspaceName == nil, let url = provider.oauth?.userinfoURL else { return nil }
        do {
            return try ProviderAPI(definition: provider, context: session.context).userinfo(token: connection.accessToken, url: url)
        } catch {
            session.warn("could not ask \(provider.displayName) who the token belongs to: \(error.description)")
            return nil
        }
    }

    /// Notion MCP: discover the authorization server, register a public client once (kept
    /// in the vault), then authorization code with PKCE S256 and the resource indicator.
    static func loginWithRegistration(_ options: LoginOptions, provider: ProviderDefinition, target: RedirectTarget, browser: BrowserLogin, session: Session) throws(NotionauthError) -> (Connection, ClientCredentials) {
        var client = try session.store.clientCredentials(provider: provider.name)
        var server = client.flatMap(AuthorizationServer.init(client:))
        // A registration is bound to its redirect URI; a new port needs a new one.
        if client?.redirectURI != target.uri || server == nil {
            let discovered = try AuthorizationServer.discover(provider: provider, context: session.context)
            client = try discovered.register(redirectURI: target.uri, provider: provider, context: session.context)
            server = discovered
        }
        guard let client, let server else { throw .failure("registration failed") }
        let pkce = PKCE()
        let oauth = provider.oauth!
        let endpoint = try TokenEndpoint.make(provider: provider, client: client, context: session.context)
        // The definition's scopes, else "default" where the server advertises it.
        let scopes = !oauth.scopes.isEmpty ? oauth.scopes : (server.scopesSupported.contains("default") ? ["default"] : [])
        return try browser.run(
            client: client,
            authorizeURL: { client, state in
                var parameters = [
                    ("response_type", "code"), ("client_id", client.clientID), ("redirect_uri", target.uri), ("state", state),
                    ("code_challenge", pkce.challenge), ("code_challenge_method", "S256"),
                ]
                if let scope = oauth.scopeParameter(scopes) { parameters.append(("scope", scope)) }
                if let resource = server.resource { parameters.append(("resource", resource)) }
                parameters += oauth.authorizeParams.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                return URLEncoding.url(server.authorizationEndpoint, parameters)
            },
            exchange: { (code, client) throws(NotionauthError) -> Connection in
                let parameters = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", target.uri), ("code_verifier", pkce.verifier)]
                let response = try endpoint.request(parameters, client: client)
                return Connection(provider: provider.name, name: options.connectionName, tokenResponse: response, clientID: client.clientID, now: session.now)
            })
    }

    /// Stores a token read from standard input (never argv), checked with the identity
    /// endpoint unless --no-verify. A token given explicitly always replaces the stored one.
    static func loginWithToken(_ options: LoginOptions, provider: ProviderDefinition, session: Session) throws(NotionauthError) -> ExitStatus {
        guard provider.flows.contains(.token) else {
            throw .usage("\(provider.name) does not take pasted tokens; run `notionauth login \(provider.name)`", command: Self.spec.name)
        }
        let token = try readToken(provider: provider, session: session)
        if !provider.tokenPrefixes.isEmpty && !provider.tokenPrefixes.contains(where: { token.hasPrefix($0) }) {
            session.warn("the token does not start with \(provider.tokenPrefixes.joined(separator: " or ")); storing it anyway")
        }
        var connection = Connection(provider: provider.name, name: options.connectionName, kind: .token, accessToken: token, obtainedAt: session.now)
        if !options.noVerify {
            let identity = try ProviderAPI(definition: provider, context: session.context).identity(token: token)
            let bot = identity["bot"]
            connection.botID = identity["id"]?.stringValue
            connection.workspaceID = bot?["workspace_id"]?.stringValue
            connection.workspaceName = bot?["workspace_name"]?.stringValue
            connection.owner = bot?["owner"]
            connection.raw = identity
        }
        try session.store.update { (changes: inout CredentialChanges) throws(NotionauthError) in
            changes.store(connection)
        }
        let verified = options.noVerify ? ", not verified" : ""
        session.info("Logged in to \(provider.displayName)\(connection.workspaceSuffix) as connection '\(connection.name)'\(verified).")
        return .success
    }

    private static func readToken(provider: ProviderDefinition, session: Session) throws(NotionauthError) -> String {
        var bytes: [UInt8]
        if !session.context.stdinIsTerminal {
            bytes = session.context.readStandardInput()
        } else if session.context.mayPrompt, let typed = session.context.promptSecret("Paste the \(provider.displayName) token: ") {
            bytes = typed
        } else {
            throw .usage("no token: pipe it on standard input (`notionauth login \(provider.name) --with-token < token.txt`)", command: Self.spec.name)
        }
        defer { for i in bytes.indices { bytes[i] = 0 } }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .usage("the token on standard input is not UTF-8 text", command: Self.spec.name)
        }
        let token = text.trimmingWhitespace()
        guard !token.isEmpty else {
            throw .usage("no token on standard input", command: Self.spec.name)
        }
        // Never repeated in the message: it may be a real token with one stray byte.
        guard TerminalText.isUsableCredential(token) else {
            throw .usage("the token on standard input contains white space, control characters or several lines; give one token", command: Self.spec.name)
        }
        return token
    }
}

extension Connection {
    /// " (workspace NAME)" for messages, the provider's name made safe for a terminal.
    var workspaceSuffix: String {
        workspaceName.map { " (workspace \(TerminalText.sanitize($0)))" } ?? userLabel.map { " (as \(TerminalText.sanitize($0)))" } ?? ""
    }
}


