import NotionAuthCore
/// PKCE (RFC 7636) with S256: a 43-character verifier from libsodium's CSPRNG.
public struct PKCE: Sendable {
    public let verifier: String
    public let challenge: String

    public init() {
        verifier = Base64URL.encode(Sodium.randomBytes(32))
        challenge = Base64URL.encode(Sodium.sha256(Array(verifier.utf8)))
    }
}
