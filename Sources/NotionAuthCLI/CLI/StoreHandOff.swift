import NotionAuthCore

/// How `notionauth` reaches a PostgreSQL store without linking a database driver: the
/// command runs again, unchanged, as `notionauth-postgres` from beside it, which is the same
/// CLI with the store linked in. `get` and `export` against the file vault never load it.
public enum StoreHandOff {
    public static let executableName = "notionauth-postgres"

    /// Openers that replace this process by `notionauth-postgres ARGUMENTS`. They run when the
    /// session is made, before the command has done or printed anything.
    public static func openers(arguments: [String]) -> StoreOpeners {
        StoreOpeners(schemes: StoreOpeners.postgresSchemes) { (_: StoreRequest) throws(NotionauthError) -> any CredentialStore in
            try SiblingExecutable.replaceProcess(with: executableName, arguments: arguments)
            throw .failure("cannot run \(executableName)")
        }
    }
}

/// The same for `run --proxy`: `notionauth-proxy` is the CLI with the proxy (TLS and
/// certificates) linked in. `run` calls this before it reads the store.
public enum ProxyHandOff {
    public static func handOff(arguments: [String]) -> @Sendable () throws(NotionauthError) -> Void {
        { () throws(NotionauthError) in
            try SiblingExecutable.replaceProcess(with: RunProxy.executableName, arguments: arguments)
        }
    }
}
