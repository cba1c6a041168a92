#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What moving the vault's key did, for the command to tell.
public struct KeyMove: Sendable {
    /// There was no vault; an empty one was created, protected by the key.
    public var createdVault = false
    /// The vault was protected by a passphrase; it was encrypted anew under the key.
    public var wasPassphrase = false
    public var removedKeyFile = false
    public var clearedKeyring = false
    /// What the person should still know or do, as sentences.
    public var notes: [String] = []
}

/// Moving the key of a key-protected vault between the key file, a stored key command and
/// the keyring. The key itself never changes in a move (the vault is not rewritten), so that
/// at every moment each place that holds it holds the same key: the new place is written and
/// checked first, the old one removed last, and a crash in between leaves two copies, never
/// none. Before the key file goes, the command runs once more without it. A passphrase-protected vault, or none, is encrypted anew under the key instead (a
/// new data key, as `vault passphrase` and `vault keyfile` do). Running a move again finishes
/// one that was interrupted.
extension Vault {
    /// `vault key-command`: `command` becomes the vault's key source, stored beside it. It must
    /// print the key that opens the vault now; a passphrase-protected vault, or a new one, is
    /// encrypted anew under the key it prints.
    public func moveKey(to command: KeyCommand) throws(NotionauthError) -> KeyMove {
        // Run before the lock is taken and Ctrl-C deferred: it may prompt for a while.
        let key = try key(from: command, origin: "the key command")
        return try move(to: command) { (contents: inout VaultContents) throws(NotionauthError) -> SecureBytes in
            if case .key? = contents.protection, let current = contents.keyEncryptionKey, !current.constantTimeEquals(key) {
                let source = (try? keySource()).map { phrase(for: $0) } ?? "the key"
                throw .failure("the key that \(command.program) prints does not open the vault \(path), which \(source) opens; store that key where \(command.program) reads it, and try again. Nothing was changed")
            }
            try storeKeyCommand(command)
            return key
        }
    }

    /// `vault keyring`: the key goes into the desktop keyring, and its lookup becomes the
    /// vault's key command. A passphrase-protected vault, or a new one, gets a new random key.
    public func moveKeyToKeyring() throws(NotionauthError) -> KeyMove {
        let keyring = SecretServiceKeyring(vaultPath: path, runner: keys.commands)
        try keyring.checkReachable()
        return try move(to: keyring.lookupCommand) { (contents: inout VaultContents) throws(NotionauthError) -> SecureBytes in
            var key = SecureBytes.random(count: Sodium.keyBytes)
            if case .key? = contents.protection, let current = contents.keyEncryptionKey { key = current }
            try keyring.store(key)
            try storeKeyCommand(keyring.lookupCommand)
            return key
        }
    }

    /// `vault keyfile`: the key of a vault whose key comes from a command goes into the key
    /// file, and the stored command (and the keyring's copy) goes. A passphrase-protected vault
    /// is encrypted anew under NOTIONAUTH_VAULT_KEY or NOTIONAUTH_KEY_COMMAND when set, else
    /// under a key file.
    public func moveKeyToKeyFile() throws(NotionauthError) -> KeyMove {
        try move(to: nil) { (contents: inout VaultContents) throws(NotionauthError) -> SecureBytes in
            let source = try keySource()
            switch (contents.protection, source) {
            case (nil, _):
                throw .failure("there is no vault yet; the first login creates one protected by a key file")
            case (.passphrase?, .environmentKey), (.passphrase?, .environmentCommand):
                return try keyEncryptionKey(for: .key)
            case (.passphrase?, _):
                let key = try createKeyFile()
                try FileSystem.remove(keyCommandPath)
                return key
            case (.key?, .environmentKey), (.key?, .keyFile):
                throw .failure("the vault is already protected by \(phrase(for: source))")
            case (.key?, _):
                let key = contents.keyEncryptionKey!
                if try !writeKeyFile(key), try !readKeyFile().constantTimeEquals(key) {
                    throw .failure("\(keyPath) exists and holds another key; move it away, and try again. Nothing was changed")
                }
                try FileSystem.remove(keyCommandPath)
                return key
            }
        }
    }

    /// Under the write lock: `place` puts the key where it goes from now on (nil: the key file)
    /// and returns it. Then the places it leaves are cleared.
    private func move(to destination: KeyCommand?, _ place: (inout VaultContents) throws(NotionauthError) -> SecureBytes) throws(NotionauthError) -> KeyMove {
        var result = KeyMove()
        var previous: VaultKeySource?
        var storedBefore: KeyCommand?
        try update { (contents: inout VaultContents) throws(NotionauthError) in
            storedBefore = try storedKeyCommand()
            switch contents.protection {
            case .key?: previous = try keySource()
            case .passphrase?: result.wasPassphrase = true
            case nil: result.createdVault = true
            }
            let key = try place(&contents)
            guard case .key? = contents.protection else {
                contents.rekey = (.key, key)
                return
            }
            // The key file that opened the vault, or a copy an interrupted move left behind.
            if let destination, FileSystem.exists(keyPath) {
                if let copy = try? readKeyFile(), copy.constantTimeEquals(key) {
                    try removeKeyFile(checking: destination, prints: key, restoring: storedBefore)
                    result.removedKeyFile = true
                } else {
                    result.notes.append("\(keyPath) does not hold the vault's key and was left alone")
                }
            }
        }
        let keyring = SecretServiceKeyring(vaultPath: path, runner: keys.commands)
        if let destination {
            // Another command may read the keyring too: its copy is for the person to remove.
            if let before = storedBefore, before != destination {
                result.notes.append(before == keyring.lookupCommand
                    ? "the key is also still in the keyring; if \(destination.program) does not read it from there, remove it: \(keyring.clearCommand.text)"
                    : "the key is also still where \(before.program) keeps it; remove it there if it should not be")
            }
        } else if let before = storedBefore {
            result.clearedKeyring = retire(before, notes: &result.notes)
        }
        switch previous {
        case .environmentKey?: result.notes.append("NOTIONAUTH_VAULT_KEY is set, and takes precedence: unset it")
        case .environmentCommand?: result.notes.append("NOTIONAUTH_KEY_COMMAND is set, and takes precedence: unset it")
        default: break
        }
        return result
    }

    /// Removes the key file once `command` has printed the key without it, run again with the
    /// file out of the way: a command that reads the key file itself (`cat vault.key`) must not
    /// become the only way to a key that is then deleted. If it does not, the key file and the
    /// stored command are put back as they were.
    private func removeKeyFile(checking command: KeyCommand, prints key: SecureBytes, restoring storedBefore: KeyCommand?) throws(NotionauthError) {
        let aside = keyPath + ".checking"
        guard rename(keyPath, aside) == 0 else { throw .io(path: keyPath, reason: FileSystem.lastError()) }
        var problem = ""
        do {
            if try keys.commands.key(from: command, origin: "the key command", vaultPath: path).constantTimeEquals(key) {
                try FileSystem.remove(aside)
                return
            }
        } catch {
            if case let .vault(_, reason) = error { problem = " (\(reason))" }
        }
        guard rename(aside, keyPath) == 0 else { throw .io(path: aside, reason: "cannot put the key file back: \(FileSystem.lastError()); rename it to \(keyPath)") }
        if let storedBefore { try storeKeyCommand(storedBefore) } else { try FileSystem.remove(keyCommandPath) }
        let keyring = SecretServiceKeyring(vaultPath: path, runner: keys.commands)
        if command == keyring.lookupCommand, storedBefore != command { try? keyring.clear() }
        throw .failure("\(command.program) does not print the vault's key once the key file \(keyPath) is out of the way\(problem): does it read that file? Nothing was changed")
    }

    /// Clears the copy of the key that a stored key command read, which no longer opens the
    /// vault (or no longer has to): the keyring's entry for this vault; for another command,
    /// a note. True when the keyring's entry was removed.
    public func retire(_ command: KeyCommand, notes: inout [String]) -> Bool {
        let keyring = SecretServiceKeyring(vaultPath: path, runner: keys.commands)
        guard command == keyring.lookupCommand else {
            notes.append("the key is still where \(command.program) keeps it; remove it there if it should not be")
            return false
        }
        do {
            try keyring.clear()
            return true
        } catch {
            notes.append("\(error.description); remove it yourself: \(keyring.clearCommand.text)")
            return false
        }
    }
}
