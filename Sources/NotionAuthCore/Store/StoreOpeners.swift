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
///
/// One opener for a list of schemes, not a dictionary: every `get` makes one of these at
/// start-up, and a dictionary of closures cost it 24,000 instructions (callgrind), about 1.4 %
/// of the whole command.
public struct StoreOpeners: Sendable {
    private let schemes: [String]
    private let opener: StoreOpener?

    /// None: only the file vault.
    public init() {
        schemes = []
        opener = nil
    }

    public init(schemes: [String], opener: @escaping StoreOpener) {
        self.schemes = schemes
        self.opener = opener
    }

    public subscript(scheme: String) -> StoreOpener? {
        schemes.contains(scheme) ? opener : nil
    }

    /// The URL schemes of a PostgreSQL store, libpq's two.
    public static let postgresSchemes = ["postgres", "postgresql"]
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
