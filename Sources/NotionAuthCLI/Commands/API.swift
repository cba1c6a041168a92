import NotionAuthCore
import NotionAuthLogin
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct APIOptions: Equatable, Sendable {
    public var provider = "notion"
    /// Nil: the provider's default (`use`, NOTIONAUTH_CONNECTION, else `default`).
    public var connection: String?
    public var method: String?
    public var path: String
    /// JSON text, `@FILE` or `-` (standard input), as given.
    public var data: String?
    public var notionVersion: String?
}

/// `notionauth api PATH [-X METHOD] [--data JSON|@FILE|-] …`: one authenticated request,
/// like `gh api`.
struct APICommand: CommandDefinition {
    static let method = CommandSpec.Option("method", short: "X", value: "METHOD", "the HTTP method (default GET, or POST with --data)")
    static let data = CommandSpec.Option("data", short: "d", value: "JSON", "the JSON request body, @FILE to read it from a file, - for standard input")
    static let provider = CommandSpec.Option("provider", short: "p", value: "NAME", "the provider whose API to call (default notion)")
    static let notionVersion = CommandSpec.Option("notion-version", value: "V", "the Notion-Version header (default: NOTION_VERSION, else the definition's)")
    static let spec = CommandSpec(
        name: "api", synopsis: "api PATH [-X METHOD] [--data JSON|@FILE|-] [--connection NAME] [--provider NAME] [--notion-version V]",
        summary: "make an authenticated request to the provider's API",
        options: [method, data, CommandSpec.connection, provider, notionVersion],
        minPositionals: 1, maxPositionals: 1,
        details: """
        Prints the response body (indented on a terminal). Retries after 429 as Retry-After says
        (three times at most); a 401 refreshes the token once and retries. Exit 0 on 2xx, 4 when
        the token is refused and cannot be refreshed, 1 otherwise.

        Examples:
          notionauth api /v1/users/me
          notionauth api -X POST /v1/search --data '{"query":"roadmap"}'
        """)

    let options: APIOptions

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        var options = APIOptions(path: arguments.firstPositional!)
        if let provider = arguments.value(Self.provider) { options.provider = provider }
        options.connection = try arguments.connection()
        options.method = arguments.value(Self.method)?.uppercased()
        options.data = arguments.value(Self.data)
        options.notionVersion = arguments.value(Self.notionVersion)
        guard options.path.hasPrefix("/") else {
            throw .usage("the path must start with '/', as in /v1/users/me", command: Self.spec.name)
        }
        // What goes into the request line must not be able to end it early.
        if let method = options.method, !HTTPRequest.isToken(method) {
            throw .usage("-X takes an HTTP method such as GET, POST, PATCH or DELETE (letters, digits and !#$%&'*+-.^_`|~ only)", command: Self.spec.name)
        }
        if options.path.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            throw .usage("the path contains a space, a control character or a non-ASCII byte; percent-encode it", command: Self.spec.name)
        }
        if let version = options.notionVersion, !HTTPRequest.isToken(version) {
            throw .usage("--notion-version takes a version such as 2025-09-03", command: Self.spec.name)
        }
        self.options = options
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        try Self.run(options, session: session)
    }

    static func run(_ options: APIOptions, session: Session) throws(NotionauthError) -> ExitStatus {
        let provider = try session.provider(options.provider).definition
        let body = try requestBody(options.data, session: session)
        let method = options.method ?? (body == nil ? "GET" : "POST")
        let connection = try session.broker.connectionName(provider: provider.name, given: options.connection)
        var client = APIClient(broker: session.broker, provider: provider, connection: connection)
        if let version = options.notionVersion, let header = provider.api.versionHeader {
            client.versionHeaders = [(header, version)]
        }
        client.onRateLimit = { [session] wait, attempt in
            session.info("rate limited by \(provider.displayName); retrying in \(wait) s (\(attempt)/\(APIClient.maxRateLimitRetries))")
        }
        let response = try client.send(method: method, path: options.path, body: body)
        printBody(response, session: session)
        if (200..<300).contains(response.status) { return .success }
        session.context.stderr.write("\(session.style.red("error:")) \(provider.displayName) answered HTTP \(response.status): \(ProviderErrorMessage.describe(response))\n")
        if let hint = ProviderErrorMessage.hint(for: response) {
            session.context.stderr.write("hint: \(hint)\n")
        }
        return response.status == 401 ? .authenticationNeeded : .failure
    }

    private static func requestBody(_ data: String?, session: Session) throws(NotionauthError) -> [UInt8]? {
        guard let data else { return nil }
        if data == "-" { return session.context.readStandardInput() }
        if data.hasPrefix("@") {
            let path = String(data.dropFirst())
            guard let file = try FileSystem.readFile(path, regularOnly: false) else { throw .io(path: path, reason: "no such file") }
            return file.bytes
        }
        return Array(data.utf8)
    }

    /// The body as received; indented when a person is reading it.
    private static func printBody(_ response: HTTPResponse, session: Session) {
        guard !response.body.isEmpty else { return }
        if session.context.stdoutIsTerminal, let json = response.json {
            session.output(json.encoded(pretty: true) + "\n")
        } else {
            session.output(String(decoding: response.body, as: UTF8.self) + (response.body.last == 10 ? "" : "\n"))
        }
    }
}
