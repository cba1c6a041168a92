/// What every consumer of stored credentials works with — the command line today, an MCP
/// server or a proxy tomorrow: the side effects, where the files are, the store, the
/// provider definitions, and where warnings go.
public struct Broker: Sendable {
    public let context: Context
    public let paths: Paths
    /// The file vault: what only it has (key file, passphrase, permissions, verify).
    public let vault: Vault
    /// Connections and client credentials, whatever keeps them.
    public let store: any CredentialStore
    public let providers: ProviderRegistry
    /// Says something a person should know that is not an error (stderr for the CLI).
    public let warn: @Sendable (String) -> Void

    /// The namespace within a shared store (`--namespace`, NOTIONAUTH_NAMESPACE); the file
    /// vault has only `default`.
    public let namespace: String

    public static let defaultNamespace = "default"

    /// `vaultPath` overrides where the vault is (`--vault`); `storeURL` selects the store
    /// (`--store`, else NOTIONAUTH_STORE): none or `file:PATH` is the file vault, another
    /// scheme goes to the opener the context has for it.
    public init(context: Context, vaultPath: String?, storeURL: String? = nil, namespace: String? = nil, warn: @escaping @Sendable (String) -> Void) {
        self.context = context
        self.warn = warn
        let environment = context.environment
        let storeURL = storeURL ?? environment["NOTIONAUTH_STORE"].flatMap { $0.isEmpty ? nil : $0 }
        self.namespace = namespace ?? environment["NOTIONAUTH_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultNamespace
        var vaultPath = vaultPath
        if let storeURL, storeURL.hasPrefix("file:") { vaultPath = String(storeURL.dropFirst(5)) }
        paths = Paths(environment: context.environment, vaultOption: vaultPath)
        providers = ProviderRegistry(overridesDirectory: paths.providersDirectory)
        let path = paths.vault
        vault = Vault(
            path: path,
            keys: VaultKeys(
                environmentKey: environment["NOTIONAUTH_VAULT_KEY"].flatMap { $0.isEmpty ? nil : $0 },
                environmentCommand: environment["NOTIONAUTH_KEY_COMMAND"].flatMap { $0.isEmpty ? nil : $0 },
                commands: KeyCommandRunner(context: context),
                passphrase: { (confirm: Bool) throws(NotionauthError) -> SecureBytes in
                    try PassphraseSource.obtain(context: context, vaultPath: path, confirm: confirm)
                }))
        store = Self.openStore(url: storeURL, namespace: self.namespace, vault: vault, context: context)
    }

    private static func openStore(url: String?, namespace: String, vault: Vault, context: Context) -> any CredentialStore {
        guard let url, !url.hasPrefix("file:") else {
            if namespace != defaultNamespace {
                return UnavailableStore(location: vault.path, error: .usage("the file vault has no namespaces; --namespace needs a shared store (--store)", command: nil))
            }
            return FileVaultStore(vault: vault)
        }
        let request = StoreRequest(url: url, namespace: namespace, vault: vault, context: context)
        guard let scheme = request.scheme, let opener = context.storeOpeners[scheme] else {
            let shown = url.split(separator: ":", maxSplits: 1).first.map(String.init) ?? url
            return UnavailableStore(location: shown, error: .usage("unknown store '\(shown):…'; a store is file:PATH or a postgres:// URL", command: nil))
        }
        do {
            return try opener(request)
        } catch {
            return UnavailableStore(location: "--store", error: error)
        }
    }

    public var now: Int64 { context.now() }

    /// The connection a command uses for `provider`: the one it was given (`--connection`),
    /// else NOTIONAUTH_CONNECTION, else the one chosen with `use`, else `default`. A caller
    /// that reads the store anyway passes its snapshot, so the store is opened once.
    public func connectionName(provider: String, given: String?, in snapshotGiven: (any CredentialSnapshot)? = nil) throws(NotionauthError) -> String {
        if let given { return given }
        if let named = context.environment["NOTIONAUTH_CONNECTION"], !named.isEmpty {
            guard ConnectionName.isValid(named) else {
                throw .usage("NOTIONAUTH_CONNECTION is not a valid connection name (letters, digits, '.', '_', '-'; at most 64)", command: nil)
            }
            return named
        }
        let snapshot: any CredentialSnapshot
        if let given = snapshotGiven { snapshot = given } else { snapshot = try store.snapshot() }
        return try snapshot.defaultConnection(provider: provider) ?? ConnectionName.defaultName
    }

    /// Resolves a provider and reports any unknown-key warnings from its file.
    public func provider(_ name: String) throws(NotionauthError) -> ResolvedProvider {
        let resolved = try providers.resolve(name: name)
        for warning in resolved.warnings { warn(warning) }
        return resolved
    }
}
