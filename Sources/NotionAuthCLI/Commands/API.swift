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
    static let maxRateLimitRetries = 3
    static let maxRetryAfterSeconds: Int64 = 60

    static func run(_ options: APIOptions, session: Session) throws(NotionauthError) -> ExitStatus {
        let provider = try session.provider(options.provider).definition
        let body = try requestBody(options.data, session: session)
        let method = options.method ?? (body == nil ? "GET" : "POST")
        let refresh = TokenRefresh(broker: session.broker, provider: provider)
        var connection = try refresh.usableConnection(named: options.connection)
        let api = ProviderAPI(definition: provider, context: session.context)
        var versionHeaders = api.versionHeaders
        if let version = options.notionVersion, let header = provider.api.versionHeader {
            versionHeaders = [(header, version)]
        }

        var refreshed = false
        var rateLimited = 0
        while true {
            var headers = [("Authorization", "Bearer \(connection.accessToken)"), ("Accept", "application/json")] + versionHeaders
            if body != nil { headers.append(("Content-Type", "application/json")) }
            let response = try session.context.http.send(HTTPRequest(method: method, url: provider.api.baseURL + options.path, headers: headers, body: body), timeoutSeconds: 60)
            if response.status == 401 && !refreshed {
                // Notion's own tokens carry no expiry: a refusal is the sign to refresh.
                connection = try refresh.afterRejection(of: connection)
                refreshed = true
                continue
            }
            if response.status == 429 && rateLimited < maxRateLimitRetries {
                rateLimited += 1
                let wait = min(max(Int64(response.header("Retry-After") ?? "") ?? 1, 0), maxRetryAfterSeconds)
                session.info("rate limited by \(provider.displayName); retrying in \(wait) s (\(rateLimited)/\(maxRateLimitRetries))")
                sleep(UInt32(wait))
                continue
            }
            printBody(response, session: session)
            if (200..<300).contains(response.status) { return .success }
            let code = ProviderErrorMessage.code(response)
            session.context.stderr.write("\(session.style.red("error:")) \(provider.displayName) answered HTTP \(response.status): \(ProviderErrorMessage.describe(response))\n")
            switch code {
            case "object_not_found":
                session.context.stderr.write("hint: the page or database may exist but not be shared with the integration: in Notion, open it, then ••• → Connections → add the integration\n")
            case "restricted_resource":
                session.context.stderr.write("hint: the integration lacks a capability this request needs (read, update or insert content, comments, user information); enable it in the integration's settings\n")
            default:
                break
            }
            return response.status == 401 ? .authenticationNeeded : .failure
        }
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
