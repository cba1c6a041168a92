#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Requests to a provider's API with a stored connection's token, as every caller needs
/// them (`api` today, an MCP server's tools tomorrow): the token refreshed when due, a 401
/// answered by one refresh and one retry, a 429 waited out as `Retry-After` says (bounded).
public struct APIClient: Sendable {
    public static let maxRateLimitRetries = 3
    public static let maxRetryAfterSeconds: Int64 = 60

    public let refresh: TokenRefresh
    public let connectionName: String
    /// The version header to send; the provider's (and NOTION_VERSION's) by default.
    public var versionHeaders: [(String, String)]
    /// Told before each wait after a 429, for a person to see.
    public var onRateLimit: @Sendable (_ waitSeconds: Int64, _ attempt: Int) -> Void = { _, _ in }
    /// How a wait happens (tests pass their own).
    public var wait: @Sendable (_ seconds: Int64) -> Void = { seconds in pause(seconds) }

    public init(broker: Broker, provider: ProviderDefinition, connection: String) {
        refresh = TokenRefresh(broker: broker, provider: provider)
        connectionName = connection
        versionHeaders = ProviderAPI(definition: provider, context: broker.context).versionHeaders
    }

    /// Sends `method path` (relative to the provider's base URL) and returns the final
    /// answer, whatever its status, once the retries above are spent.
    public func send(method: String, path: String, body: [UInt8]?, timeoutSeconds: Int64 = 60) throws(NotionauthError) -> HTTPResponse {
        try send(method: method, path: path, body: body, timeoutSeconds: timeoutSeconds, reusing: nil).response
    }

    /// As above, starting from `known` — the connection a long-running caller (the MCP
    /// server) kept from its previous request — instead of reading the store again, unless it
    /// is due. A token refreshed meanwhile by another process shows as a 401, after which the
    /// store is read again (`afterRejection`). Returns the connection used, to keep.
    public func send(method: String, path: String, body: [UInt8]?, timeoutSeconds: Int64 = 60, reusing known: Connection?) throws(NotionauthError)
        -> (response: HTTPResponse, connection: Connection)
    {
        let provider = refresh.provider
        var connection: Connection
        if let known {
            connection = try refresh.usable(known)
        } else {
            connection = try refresh.usableConnection(named: connectionName)
        }
        var refreshed = false
        var rateLimited = 0
        while true {
            var headers = [("Authorization", "Bearer \(connection.accessToken)"), ("Accept", "application/json")] + versionHeaders
            if body != nil { headers.append(("Content-Type", "application/json")) }
            let response = try refresh.broker.context.http.send(
                HTTPRequest(method: method, url: provider.api.baseURL + path, headers: headers, body: body),
                timeoutSeconds: timeoutSeconds)
            if response.status == 401 && !refreshed {
                // Notion's own tokens carry no expiry: a refusal is the sign to refresh.
                connection = try refresh.afterRejection(of: connection)
                refreshed = true
                continue
            }
            if response.status == 429 && rateLimited < Self.maxRateLimitRetries {
                rateLimited += 1
                let wait = min(max(Int64(response.header("Retry-After") ?? "") ?? 1, 0), Self.maxRetryAfterSeconds)
                onRateLimit(wait, rateLimited)
                self.wait(wait)
                continue
            }
            return (response, connection)
        }
    }
}

private func pause(_ seconds: Int64) {
    _ = sleep(UInt32(clamping: seconds))
}
