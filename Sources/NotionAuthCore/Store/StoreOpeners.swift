/// What a store other than the file vault is opened with: its URL as given (`--store`,
/// NOTIONAUTH_STORE), the namespace, and the vault, whose key sources wrap the store's keys.
public struct StoreRequest: Sendable {
    public let url: String
    public let namespace: String
    public let vault: Vault
    public let context: Context

    public init(url: String, namespace: String, vault: Vault, context: Context) {
        self.url = url
        self.namespace = namespace
        self.vault = vault
        self.context = context
    }

    /// The URL's scheme, lower-cased: what picks the opener.
    public var scheme: String? {
        guard let colon = url.firstIndex(of: ":") else { return nil }
        return url[..<colon].lowercased()
    }
}

/// Opens a store for its request. It must not connect yet: `get` against an unreachable
/// database fails at the first read, with that store's own message.
public typealias StoreOpener = @Sendable (StoreRequest) throws(NotionauthError) -> any CredentialStore

/// Store openers by URL scheme. Core knows only the file vault; an executable installs the
/// others in its `Context` before running (so that Core and `get` never link a database
/// driver).
public struct StoreOpeners: Sendable {
    private var openers: [String: StoreOpener] = [:]

    public init() {}

    public subscript(scheme: String) -> StoreOpener? {
        get { openers[scheme] }
        set { openers[scheme] = newValue }
    }
}

/// Stands in for a store that could not be opened: every use throws why.
struct UnavailableStore: CredentialStore {
    let location: String
    let error: NotionauthError

    func snapshot() throws(NotionauthError) -> any CredentialSnapshot { throw error }

    func update<T>(reservingGrowth: Int?, _ body: (inout CredentialChanges) throws(NotionauthError) -> T) throws(NotionauthError) -> T {
        throw error
    }
}
