import NotionAuthCore
import NotionAuthLogin
/// What a command accepts, used both to parse its arguments and to print its help, so the
/// two cannot disagree.
public struct CommandSpec: Sendable {
    public struct Option: Sendable {
        public var name: String
        public var short: Character?
        /// Set for options that take a value (`--connection NAME`), nil for flags.
        public var valueName: String?
        public var help: String

        public init(_ name: String, short: Character? = nil, value: String? = nil, _ help: String) {
            self.name = name
            self.short = short
            self.valueName = value
            self.help = help
        }
    }

    public var name: String
    public var synopsis: String
    public var summary: String
    public var options: [Option]
    public var minPositionals: Int
    public var maxPositionals: Int
    /// Extra paragraphs for `--help`: examples, notes.
    public var details: String

    /// Options every command accepts.
    public static let globalOptions: [Option] = [
        Option("vault", value: "PATH", "use the vault at PATH (default: $NOTIONAUTH_VAULT, else <config>/vault)"),
        Option("json", "machine-readable output on stdout"),
        Option("quiet", short: "q", "print nothing but what was asked for and errors"),
        Option("no-color", "never colour the output"),
        Option("help", short: "h", "show this help"),
    ]

    static let connection = Option("connection", short: "c", value: "NAME", "the connection to use (default: default)")

    public static let all: [CommandSpec] = [
        CommandSpec(
            name: "login", synopsis: "login PROVIDER [--connection NAME] [--with-token [--no-verify]] [--no-browser] [--port N] [--timeout SECONDS] [--client-id ID [--client-secret-stdin]] [--reset-client] [--force]",
            summary: "log in to a provider and store the credential in the vault",
            options: [
                connection,
                Option("with-token", "read a token from standard input (or a no-echo prompt) instead of a browser login"),
                Option("no-verify", "with --with-token: store the token without checking it with the provider"),
                Option("no-browser", "print the URL to open, but do not open a browser"),
                Option("port", value: "N", "listen for the browser on port N (default 7998; the redirect URI must match)"),
                Option("timeout", value: "SECONDS", "give up waiting for the browser after SECONDS (default 300)"),
                Option("client-id", value: "ID", "the OAuth client ID of your public integration"),
                Option("client-secret-stdin", "read the OAuth client secret from standard input"),
                Option("reset-client", "forget the stored client credentials (or MCP registration) and log in again"),
                Option("force", "log in again even if the connection is already logged in"),
            ],
            minPositionals: 1, maxPositionals: 1,
            details: """
            Browser login listens on http://127.0.0.1:7998/auth/callback/oauth (NOTION_REDIRECT_URI moves it):
            register exactly that redirect URI in your Notion public integration. The client ID and secret
            come from --client-id with --client-secret-stdin, NOTION_CLIENT_ID and NOTION_CLIENT_SECRET, an
            earlier login, or a page in the browser. notion-mcp registers itself: nothing to set up.

            Examples:
              notionauth login notion
              notionauth login notion-mcp --connection agent
              echo "$NOTION_TOKEN" | notionauth login notion --with-token
              printf %s "$SECRET" | notionauth login notion --client-id "$ID" --client-secret-stdin --no-browser
            """),
        CommandSpec(
            name: "get", synopsis: "get PROVIDER [--connection NAME] [--field FIELD] [--show-secrets]",
            summary: "show a connection, or print one field of it",
            options: [
                connection,
                Option("field", short: "f", value: "FIELD", "print this field alone (access_token prints the raw token)"),
                Option("show-secrets", "show the access and refresh tokens instead of masking them"),
            ],
            minPositionals: 1, maxPositionals: 1,
            details: """
            Fields: \(ConnectionView.fieldNames.joined(separator: ", ")).
            Status is one of not_connected, connected, expired, revoked, invalid.

            Examples:
              curl -H "Authorization: Bearer $(notionauth get notion --field access_token)" …
              notionauth get notion --field status
            """),
        CommandSpec(
            name: "export", synopsis: "export [PROVIDER] [--connection NAME] [--format env|dotenv|json|fish|github-actions]",
            summary: "print access tokens as environment variables",
            options: [
                connection,
                Option("format", value: "FORMAT", "env (default: export lines for eval), dotenv, json, fish, or github-actions"),
            ],
            minPositionals: 0, maxPositionals: 1,
            details: """
            Without PROVIDER: the connection of every provider that has one (--connection, else default).
            Refresh tokens and client secrets are never exported.

            github-actions masks each value (::add-mask:: on stdout) and appends it to $GITHUB_ENV.

            Examples:
              eval "$(notionauth export notion)"
              notionauth export notion --format fish | source
              notionauth export notion --format github-actions      # in a workflow step
              notionauth export notion --format dotenv > notion.env && docker run --env-file notion.env …
            """),
        CommandSpec(
            name: "inspect", synopsis: "inspect PROVIDER",
            summary: "print the effective provider definition as JSON",
            options: [],
            minPositionals: 1, maxPositionals: 1,
            details: """
            The output is a valid definition: save it as <config>/providers/PROVIDER.json to override one.

            Example:
              notionauth inspect notion > ~/.config/notionauth/providers/notion.json
            """),
        CommandSpec(
            name: "list", synopsis: "list",
            summary: "list providers and their connections",
            options: [],
            minPositionals: 0, maxPositionals: 0,
            details: ""),
        CommandSpec(
            name: "status", synopsis: "status [PROVIDER] [--connection NAME]",
            summary: "check connections live with the provider, and the vault's files",
            options: [Option("connection", short: "c", value: "NAME", "check only this connection")],
            minPositionals: 0, maxPositionals: 1,
            details: """
            Each connection is checked with the provider (introspection where it has it, else its
            identity endpoint) and reported as connected, expired, revoked, invalid, unreachable or not_connected;
            the stored status is updated. Also checks the vault's and key file's permissions and the
            provider definitions. Exit 0 when everything asked about is usable, 4 when a connection
            needs a login, 1 otherwise.
            """),
        CommandSpec(
            name: "logout", synopsis: "logout PROVIDER [--connection NAME | --all] [--keep-remote]",
            summary: "revoke a connection's token at the provider and delete it",
            options: [
                connection,
                Option("all", "every connection of the provider, and its stored client credentials"),
                Option("keep-remote", "delete locally only; do not revoke at the provider"),
            ],
            minPositionals: 1, maxPositionals: 1,
            details: "A failed revocation still deletes the connection locally, with a warning."),
        CommandSpec(
            name: "run", synopsis: "run [PROVIDER…] [--connection NAME] [--allow-nested] -- COMMAND [ARGS…]",
            summary: "run a command with the providers' tokens in its environment",
            options: [
                connection,
                Option("allow-nested", "run even inside another notionauth run"),
            ],
            minPositionals: 0, maxPositionals: 64,
            details: """
            COMMAND runs directly (no shell) with the variables `export` would print, refreshed when
            about to expire. Its exit status is notionauth's; Ctrl-C and SIGTERM are passed to it.

            Example:
              notionauth run notion -- python sync.py
            """),
        CommandSpec(
            name: "api", synopsis: "api PATH [-X METHOD] [--data JSON|@FILE|-] [--connection NAME] [--provider NAME] [--notion-version V]",
            summary: "make an authenticated request to the provider's API",
            options: [
                Option("method", short: "X", value: "METHOD", "the HTTP method (default GET, or POST with --data)"),
                Option("data", short: "d", value: "JSON", "the JSON request body, @FILE to read it from a file, - for standard input"),
                connection,
                Option("provider", short: "p", value: "NAME", "the provider whose API to call (default notion)"),
                Option("notion-version", value: "V", "the Notion-Version header (default: NOTION_VERSION, else the definition's)"),
            ],
            minPositionals: 1, maxPositionals: 1,
            details: """
            Prints the response body (indented on a terminal). Retries after 429 as Retry-After says
            (three times at most); a 401 refreshes the token once and retries. Exit 0 on 2xx, 4 when
            the token is refused and cannot be refreshed, 1 otherwise.

            Examples:
              notionauth api /v1/users/me
              notionauth api -X POST /v1/search --data '{"query":"roadmap"}'
            """),
        CommandSpec(
            name: "vault", synopsis: "vault [status|verify|passphrase|keyfile]",
            summary: "show or change how the vault is protected",
            options: [],
            minPositionals: 0, maxPositionals: 1,
            details: """
            status      format version, key source, KDF parameters, connection count (the default)
            verify      decrypt every record, proving the whole file intact
            passphrase  protect the vault with a passphrase (Argon2id) instead of the key file
            keyfile     protect the vault with a random key file again (or NOTIONAUTH_VAULT_KEY when set)
            The passphrase comes from NOTIONAUTH_PASSPHRASE, the file descriptor in
            NOTIONAUTH_PASSPHRASE_FD, or a no-echo prompt on a terminal.
            """),
        CommandSpec(
            name: "completion", synopsis: "completion bash|zsh|fish",
            summary: "print the shell completion script",
            options: [],
            minPositionals: 1, maxPositionals: 1,
            details: """
            Examples:
              source <(notionauth completion bash)          # in ~/.bashrc
              notionauth completion zsh > "${fpath[1]}/_notionauth"
              notionauth completion fish > ~/.config/fish/completions/notionauth.fish
            """),
        CommandSpec(
            name: "help", synopsis: "help [COMMAND]",
            summary: "show help for notionauth or one command",
            options: [],
            minPositionals: 0, maxPositionals: 1,
            details: ""),
        CommandSpec(
            name: "version", synopsis: "version",
            summary: "print the version",
            options: [],
            minPositionals: 0, maxPositionals: 0,
            details: ""),
    ]

    public static func named(_ name: String) -> CommandSpec? {
        all.first { $0.name == name }
    }

    /// The text of `notionauth COMMAND --help`.
    public var helpText: String {
        var text = "usage: notionauth \(synopsis)\n\n\(summary)\n"
        if !options.isEmpty {
            text += "\nOptions:\n" + Self.format(options)
        }
        text += "\nGlobal options:\n" + Self.format(Self.globalOptions)
        if !details.isEmpty { text += "\n\(details)\n" }
        return text
    }

    static func format(_ options: [Option]) -> String {
        let rows = options.map { option -> (String, String) in
            var left = option.short.map { "-\($0), " } ?? "    "
            left += "--\(option.name)"
            if let value = option.valueName { left += " \(value)" }
            return (left, option.help)
        }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { "  \($0.0.padding(to: width))  \($0.1)\n" }.joined()
    }

    /// The text of `notionauth --help`.
    public static var mainHelp: String {
        let width = all.map(\.name.count).max() ?? 0
        let commands = all.map { "  \($0.name.padding(to: width))  \($0.summary)\n" }.joined()
        return """
        notionauth: Notion credentials for terminals, shells, CI and agents

        usage: notionauth COMMAND [options]

        Commands:
        \(commands)
        Global options:
        \(format(globalOptions))
        Run `notionauth COMMAND --help` for a command's options, `man notionauth` for everything.

        """
    }
}


