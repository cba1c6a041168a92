/// The endpoints of a provider that names an `issuer`, from its metadata (RFC 8414, else
/// OpenID Connect discovery), kept in the client's vault record so that logins, refreshes
/// and revocations do not ask again while it is fresh.
///
/// The metadata lives in the client record (`registration`: `server` and `fetched_at`, as a
/// registered client keeps its server): endpoints belong to the client's provider, not to
/// one connection, and the record is already read on every refresh. A client taken from
/// the provider's variables is not stored, so its metadata is fetched each time it is needed.
public enum IssuerMetadata {
    /// Metadata older than this is fetched again: long enough that `get` almost never waits
    /// on discovery, short enough that moved endpoints are followed within a day.
    public static let lifetimeSeconds: Int64 = 24 * 3600

    /// `client`'s cached metadata when it is for `issuer` and younger than the lifetime.
    public static func cached(in client: ClientCredentials?, issuer: String, now: Int64) -> AuthorizationServer? {
        guard let text = client?.registrationJSON, let json = try? JSONValue.parse(Array(text.utf8)),
              let fetchedAt = json["fetched_at"]?.int64Value, let server = json["server"].flatMap(AuthorizationServer.init(json:)),
              server.issuer == issuer else { return nil }
        // A fetch time in the future (a clock set back) counts as stale rather than forever fresh.
        guard fetchedAt <= now, now - fetchedAt < lifetimeSeconds else { return nil }
        return server
    }

    /// `client` with `server` recorded as fetched at `now`.
    public static func caching(_ server: AuthorizationServer, in client: ClientCredentials, now: Int64) -> ClientCredentials {
        var client = client
        client.registrationJSON = JSONValue.object(["server": server.json, "fetched_at": .int(now)]).encoded()
        return client
    }

    /// The provider with its left-out endpoints filled in, and the metadata when it had to
    /// be fetched now (for the caller to cache); a provider without an issuer as it is.
    public static func resolve(_ provider: ProviderDefinition, client: ClientCredentials?, context: Context) throws(NotionauthError) -> (ProviderDefinition, fetched: AuthorizationServer?) {
        guard let issuer = provider.oauth?.issuer else { return (provider, nil) }
        if let server = cached(in: client, issuer: issuer, now: context.now()) {
            return (provider.withEndpoints(of: server), nil)
        }
        let server = try AuthorizationServer.discover(issuer: issuer, provider: provider, context: context)
        return (provider.withEndpoints(of: server), server)
    }
}

extension ProviderDefinition {
    /// An endpoint written in the definition wins over the discovered one: that is how a
    /// provider whose metadata is wrong or incomplete is corrected without giving up the rest.
    public func withEndpoints(of server: AuthorizationServer) -> ProviderDefinition {
        var resolved = self
        guard var oauth else { return resolved }
        oauth.authorizationURL = oauth.authorizationURL ?? server.authorizationEndpoint
        oauth.tokenURL = oauth.tokenURL ?? server.tokenEndpoint
        oauth.revocationURL = oauth.revocationURL ?? server.revocationEndpoint
        oauth.introspectionURL = oauth.introspectionURL ?? server.introspectionEndpoint
        oauth.userinfoURL = oauth.userinfoURL ?? server.userinfoEndpoint
        resolved.oauth = oauth
        return resolved
    }
}
