import Foundation
import NotionAuthCore

/// Bearer tokens for one stored connection: read once, then taken from the store again only
/// when due for refresh, or after the server refused one.
///
/// Refreshing rotates the pair, so it happens in TokenRefresh, under the store's cross-process
/// lock: of every process holding the connection, one refreshes and the others find the new
/// token. Those calls block: they run through `Blocking`.
actor BridgeCredentials {
    private let refresh: TokenRefresh
    private let name: String
    private var connection: Connection?

    init(broker: Broker, provider: ProviderDefinition, connection name: String) {
        refresh = TokenRefresh(broker: broker, provider: provider)
        self.name = name
    }

    /// A token to send now.
    func token() async throws(NotionauthError) -> String {
        if let connection, !TokenRefresh.isDue(connection, now: refresh.broker.now) {
            return connection.accessToken
        }
        let (refresh, name) = (refresh, name)
        let usable = try await Blocking.run { () throws(NotionauthError) in try refresh.usableConnection(named: name) }
        connection = usable
        return usable.accessToken
    }

    /// A token to send instead of `rejected`, which the server answered 401 to: the one a
    /// concurrent request already got, or one refresh.
    func token(replacing rejected: String) async throws(NotionauthError) -> String {
        guard let seen = connection, seen.accessToken == rejected else { return try await token() }
        let refresh = refresh
        let replaced = try await Blocking.run { () throws(NotionauthError) in try refresh.afterRejection(of: seen) }
        connection = replaced
        return replaced.accessToken
    }

    /// What a request gets when the server refuses even a refreshed token.
    nonisolated var refusedAfterRefresh: NotionauthError {
        .credentialUnusable(provider: refresh.provider.name, connection: name, status: "refused by the MCP server even after a refresh")
    }

    /// The token in hand, if any, without asking the store (for the goodbye DELETE).
    var currentToken: String? { connection?.accessToken }
}
