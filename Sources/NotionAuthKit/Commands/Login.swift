/// `notionauth login PROVIDER …`
enum LoginCommand {
    static func run(_ options: LoginOptions, session: Session) throws(NotionauthError) -> ExitStatus {
        let resolved = try session.provider(options.provider)
        let provider = resolved.definition
        if options.withToken {
            return try loginWithToken(options, provider: provider, session: session)
        }
        throw .usage("browser login is not available yet; use --with-token", command: "login")
    }

    /// Stores a token read from standard input (never argv), checked with the identity
    /// endpoint unless --no-verify. A token given explicitly always replaces the stored one.
    static func loginWithToken(_ options: LoginOptions, provider: ProviderDefinition, session: Session) throws(NotionauthError) -> ExitStatus {
        guard provider.flows.contains(.token) else {
            throw .usage("\(provider.name) does not take pasted tokens; run `notionauth login \(provider.name)`", command: "login")
        }
        let token = try readToken(provider: provider, session: session)
        if !provider.tokenPrefixes.isEmpty && !provider.tokenPrefixes.contains(where: { token.hasPrefix($0) }) {
            session.warn("the token does not start with \(provider.tokenPrefixes.joined(separator: " or ")); storing it anyway")
        }
        var connection = Connection(provider: provider.name, name: options.connection, kind: .token, accessToken: token, obtainedAt: session.now)
        if !options.noVerify {
            let identity = try ProviderAPI(definition: provider, context: session.context).identity(token: token)
            let bot = identity["bot"]
            connection.botID = identity["id"]?.stringValue
            connection.workspaceID = bot?["workspace_id"]?.stringValue
            connection.workspaceName = bot?["workspace_name"]?.stringValue
            connection.owner = bot?["owner"]
            connection.raw = identity
        }
        try session.vault.update { (contents: inout VaultContents) throws(NotionauthError) in
            contents.store(connection)
        }
        let workspace = connection.workspaceName.map { " (workspace \($0))" } ?? ""
        let verified = options.noVerify ? ", not verified" : ""
        session.info("Logged in to \(provider.displayName)\(workspace) as connection '\(connection.name)'\(verified).")
        return .success
    }

    private static func readToken(provider: ProviderDefinition, session: Session) throws(NotionauthError) -> String {
        var bytes: [UInt8]
        if !session.context.stdinIsTerminal {
            bytes = session.context.readStandardInput()
        } else if session.context.mayPrompt, let typed = session.context.promptSecret("Paste the \(provider.displayName) token: ") {
            bytes = typed
        } else {
            throw .usage("no token: pipe it on standard input (`notionauth login \(provider.name) --with-token < token.txt`)", command: "login")
        }
        defer { for i in bytes.indices { bytes[i] = 0 } }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .usage("the token on standard input is not UTF-8 text", command: "login")
        }
        let token = text.trimmingWhitespace()
        guard !token.isEmpty else {
            throw .usage("no token on standard input", command: "login")
        }
        guard !token.contains(where: { $0.isWhitespace }) else {
            throw .usage("the token on standard input contains white space or several lines; give one token", command: "login")
        }
        return token
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var slice = self[...]
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
