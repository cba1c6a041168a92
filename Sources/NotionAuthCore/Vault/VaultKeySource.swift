#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the key of a key-protected vault is read from: the first of these that is there.
/// The environment comes first, as it always has, so that CI and a one-off override win over
/// what is stored beside the vault; a stored key command comes before the key file, which
/// `vault key-command` and `vault keyring` remove, so that a leftover copy never decides.
public enum VaultKeySource: Equatable, Sendable {
    /// NOTIONAUTH_VAULT_KEY.
    case environmentKey
    /// NOTIONAUTH_KEY_COMMAND.
    case environmentCommand(KeyCommand)
    /// The command in `<vault>.key-command`, which `vault key-command` and `vault keyring` write.
    case storedCommand(KeyCommand)
    /// `<vault>.key`.
    case keyFile

    public var command: KeyCommand? {
        switch self {
        case let .environmentCommand(command), let .storedCommand(command): command
        case .environmentKey, .keyFile: nil
        }
    }
}

extension Vault {
    /// Beside the vault: the key command that `vault key-command` and `vault keyring` chose.
    public var keyCommandPath: String { path + ".key-command" }

    /// The key source in effect, by the precedence `VaultKeySource` gives.
    public func keySource() throws(NotionauthError) -> VaultKeySource {
        if keys.environmentKey != nil { return .environmentKey }
        if let text = keys.environmentCommand {
            do {
                return .environmentCommand(try KeyCommand(parsing: text))
            } catch {
                throw .vault(path: path, reason: "NOTIONAUTH_KEY_COMMAND cannot be read: \(error.reason)")
            }
        }
        if let stored = try storedKeyCommand() { return .storedCommand(stored) }
        return .keyFile
    }

    /// What `vault status` and `store status` show as the key source: a variable's name or a file's path.
    public func name(of source: VaultKeySource) -> String {
        switch source {
        case .environmentKey: "NOTIONAUTH_VAULT_KEY"
        case .environmentCommand: "NOTIONAUTH_KEY_COMMAND"
        case .storedCommand: keyCommandPath
        case .keyFile: keyPath
        }
    }

    /// The source in a sentence ("… does not open it").
    public func phrase(for source: VaultKeySource) -> String {
        switch source {
        case .environmentKey: "NOTIONAUTH_VAULT_KEY"
        case let .environmentCommand(command): "the key that NOTIONAUTH_KEY_COMMAND (\(command.program)) printed"
        case let .storedCommand(command): "the key that the key command in \(keyCommandPath) (\(command.program)) printed"
        case .keyFile: "the key file \(keyPath)"
        }
    }

    /// The command stored beside the vault, nil when there is none. It says what notionauth
    /// runs, so like a provider file it must be the user's own and writable by no one else.
    public func storedKeyCommand() throws(NotionauthError) -> KeyCommand? {
        guard let file = try FileSystem.readFile(keyCommandPath) else { return nil }
        if file.owner != geteuid() {
            throw .unsafeFile(path: keyCommandPath, reason: "it belongs to another user (uid \(file.owner)); the command notionauth runs for the vault's key must be your own")
        }
        if file.mode & 0o022 != 0 {
            throw .unsafeFile(path: keyCommandPath, reason: "others can write it (mode \(octal(file.mode))); run `chmod 600 \(keyCommandPath)`")
        }
        guard let text = String(validating: file.bytes, as: UTF8.self) else {
            throw .vault(path: path, reason: "\(keyCommandPath) is not UTF-8 text")
        }
        do {
            return try KeyCommand(parsing: text)
        } catch {
            throw .vault(path: path, reason: "the key command in \(keyCommandPath) cannot be read: \(error.reason)")
        }
    }

    /// Writes the key command beside the vault (0600), replacing any other, as one line in the
    /// syntax of NOTIONAUTH_KEY_COMMAND.
    func storeKeyCommand(_ command: KeyCommand) throws(NotionauthError) {
        try FileSystem.makeDirectory(FileSystem.directoryName(path))
        try FileSystem.writeAtomically(keyCommandPath, bytes: Array((command.text + "\n").utf8))
    }
}
