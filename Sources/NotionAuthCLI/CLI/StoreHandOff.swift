import NotionAuthCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How `notionauth` reaches a PostgreSQL store without linking a database driver: the
/// command runs again, unchanged, as `notionauth-postgres` from beside it, which is the same
/// CLI with the store linked in. `get` and `export` against the file vault never load it.
public enum StoreHandOff {
    public static let executableName = "notionauth-postgres"

    /// Openers that replace this process by `notionauth-postgres ARGUMENTS`. They run when the
    /// session is made, before the command has done or printed anything.
    public static func openers(arguments: [String]) -> StoreOpeners {
        StoreOpeners(schemes: StoreOpeners.postgresSchemes) { (_: StoreRequest) throws(NotionauthError) -> any CredentialStore in
            let executable = try SiblingExecutable.path(executableName)
            let argv = ([executable] + arguments).map { strdup($0) } + [nil]
            execv(executable, argv)
            throw .failure("cannot run \(executable): \(String(cString: strerror(errno)))")
        }
    }
}
