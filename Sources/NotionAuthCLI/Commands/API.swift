import NotionAuthCore
import NotionAuthLogin
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `notionauth api PATH [-X METHOD] [--data JSON|@FILE|-] …`: one authenticated request,
/// like `gh api`.
enum APICommand {
    static func run(_ options: APIOptions, session: Session) throws(NotionauthError) -> ExitStatus {
        let provider = try session.provider(options.provider).definition
        let body = try requestBody(options.data, session: session)
        let method = options.method ?? (body == nil ? "GET" : "POST")
        var client = APIClient(broker: session.broker, provider: provider, connection: options.connection)
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
