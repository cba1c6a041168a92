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

    /// `vaultPath` overrides where the vault is (`--vault`).
    public init(context: Context, vaultPath: String?, warn: @escaping @Sendable (String) -> Void) {
        self.context = context
        self.warn = warn
        paths = Paths(environment: context.environment, vaultOption: vaultPath)
        providers = ProviderRegistry(overridesDirectory: paths.providersDirectory)
        let environment = context.environment
        let path = paths.vault
        vault = Vault(
            path: path,
            keys: VaultKeys(
                environmentKey: environment["NOTIONAUTH_VAULT_KEY"].flatMap { $0.isEmpty ? nil : $0 },
                passphrase: { (confirm: Bool) throws(NotionauthError) -> SecureBytes in
                    try PassphraseSource.obtain(context: context, vaultPath: path, confirm: confirm)
                }))
        store = FileVaultStore(vault: vault)
    }

    public var now: Int64 { context.now() }

    /// Resolves a provider and reports any unknown-key warnings from its file.
    public func provider(_ name: String) throws(NotionauthError) -> ResolvedProvider {
        let resolved = try providers.resolve(name: name)
        for warning in resolved.warnings { warn(warning) }
        return resolved
    }
}
