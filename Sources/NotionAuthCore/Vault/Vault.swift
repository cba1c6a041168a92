import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the key-encryption key comes from, resolved only when a vault needs it.
public struct VaultKeys: Sendable {
    /// NOTIONAUTH_VAULT_KEY: base64 of 32 bytes, for CI where the key is a secret.
    public var environmentKey: String?
    /// NOTIONAUTH_KEY_COMMAND: a command that prints the key, read when a key is needed.
    public var environmentCommand: String?
    /// How key commands run (this one, or the one stored beside the vault).
    public var commands: KeyCommandRunner
    /// Asks for the passphrase (environment, file descriptor or terminal prompt).
    public var passphrase: @Sendable (_ confirm: Bool) throws(NotionauthError) -> SecureBytes
    /// Keys already derived or obtained in this process: a command that opens the vault twice
    /// must not ask for the passphrase, run Argon2id or run the key command twice.
    let obtained = ObtainedKeys()

    public init(environmentKey: String?, environmentCommand: String? = nil, commands: KeyCommandRunner = KeyCommandRunner(), passphrase: @escaping @Sendable (_ confirm: Bool) throws(NotionauthError) -> SecureBytes) {
        self.environmentKey = environmentKey
        self.environmentCommand = environmentCommand
        self.commands = commands
        self.passphrase = passphrase
    }
}

/// The encrypted file that holds every connection and client credential.
///
/// Reads take no lock: writers replace the file by rename, so a reader always sees one whole
/// version. Writers hold an exclusive lock on `<vault>.lock` across read-modify-write.
public struct Vault: Sendable {
    public let path: String
    public let keys: VaultKeys

    public init(path: String, keys: VaultKeys) {
        // A vault reached through a symlink is written where the link points: renaming over
        // the link would replace it and leave the real file behind, out of date.
        self.path = FileSystem.resolvingSymlink(path)
        self.keys = keys
    }

    public var keyPath: String { path + ".key" }
    var lockPath: String { path + ".lock" }

    /// The vault as it is now; an absent file is an empty vault, anything unreadable an error.
    public func open() throws(NotionauthError) -> OpenVault {
        guard let file = try FileSystem.RangeReader(path: path) else { return OpenVault(path: path) }
        let source = VaultFormat.Source(size: file.size) { (offset: Int, count: Int) throws(VaultFormat.Failure) -> [UInt8] in
            guard let bytes = file.read(offset: offset, count: count) else {
                throw VaultFormat.Failure("the file changed size while it was read")
            }
            return bytes
        }
        let sealed: VaultFormat.Sealed
        do {
            sealed = try VaultFormat.Sealed(source: source)
        } catch {
            throw .vault(path: path, reason: error.reason)
        }
        let keyEncryptionKey = try keyEncryptionKey(for: sealed.protection)
        guard let dataKey = sealed.unwrapDataKey(with: keyEncryptionKey) else {
            throw .vault(path: path, reason: wrongKeyReason(sealed.protection))
        }
        do {
            let index = try sealed.openIndex(dataKey: dataKey)
            return OpenVault(path: path, sealed: sealed, index: index, dataKey: dataKey, keyEncryptionKey: keyEncryptionKey)
        } catch {
            throw .vault(path: path, reason: error.reason)
        }
    }

    /// Runs `body` on the decrypted vault under the write lock and writes the result
    /// atomically. Every record is decrypted first, so a damaged vault is never rewritten.
    ///
    /// With `reservingGrowth`, the disk space for the new file (today's size plus that many
    /// bytes) is allocated before `body` runs, and `.noSpace` is thrown instead of running
    /// it: a body that obtains something it cannot ask for twice (a rotated token pair) can
    /// then always be written.
    @discardableResult
    public func update<T>(reservingGrowth: Int? = nil, _ body: (inout VaultContents) throws(NotionauthError) -> T) throws(NotionauthError) -> T {
        try FileSystem.makeDirectory(FileSystem.directoryName(path))
        let lock = try FileLock(path: lockPath)
        defer { withExtendedLifetime(lock) {} }

        // Opening may prompt for the passphrase, which Ctrl-C must still end.
        let current = try open()
        let reservation = try reservingGrowth.map { (growth: Int) throws(NotionauthError) in
            try FileSystem.ReservedReplacement(for: path, reserving: FileSystem.size(of: path) + growth)
        }
        // From here Ctrl-C waits until the write is done: an exit between a refresh's answer
        // and the rename would lose a rotated token pair the provider has already retired.
        let signals = Interrupts.deferred()
        defer { signals.restore() }
        var contents = try VaultContents(current)
        let before = contents
        let result = try body(&contents)
        if contents.records == before.records && contents.rekey == nil && current.exists { return result }

        var protection = current.protection ?? .key
        var keyEncryptionKey = current.keyEncryptionKey
        if let rekey = contents.rekey {
            protection = rekey.protection
            keyEncryptionKey = rekey.keyEncryptionKey
        }
        if keyEncryptionKey == nil {
            keyEncryptionKey = try keyForKeyProtection()
        }
        // A change of protection also gets a new data key, so an old copy of the file and
        // the old key (a deleted key file, a former passphrase) open nothing written since.
        let dataKey = contents.rekey == nil ? current.dataKey ?? SecureBytes.random(count: Sodium.keyBytes) : SecureBytes.random(count: Sodium.keyBytes)
        let file = VaultFormat.seal(
            records: contents.records.map { ($0.key, $0.value) },
            protection: protection,
            keyEncryptionKey: keyEncryptionKey!,
            dataKey: dataKey)
        if let reservation {
            try reservation.commit(file)
        } else {
            try FileSystem.writeAtomically(path, bytes: file)
        }
        if contents.rekey != nil, case .passphrase = protection {
            // The key file, or the key command's key, no longer opens anything written from now on.
            try FileSystem.remove(keyPath)
            try FileSystem.remove(keyCommandPath)
        }
        return result
    }

    /// The key for a vault being switched to key protection, or created: the key from its
    /// key source, and a new key file when that is where the key is read from (it would take
    /// precedence when reading anyway).
    public func keyForKeyProtection() throws(NotionauthError) -> SecureBytes {
        if case .keyFile = try keySource() { return try createKeyFile() }
        return try keyEncryptionKey(for: .key)
    }

    /// Writes a fresh random key file (0600) for a new key-protected vault, and returns the key.
    public func createKeyFile() throws(NotionauthError) -> SecureBytes {
        let key = SecureBytes.random(count: Sodium.keyBytes)
        if try writeKeyFile(key) { return key }
        return try readKeyFile()
    }

    /// Creates the key file holding `key`, whole or not at all; false when one exists already.
    func writeKeyFile(_ key: SecureBytes) throws(NotionauthError) -> Bool {
        var text = Array((key.withUnsafeBytes { Sodium.base64Encode($0) } + "\n").utf8)
        defer { for i in text.indices { text[i] = 0 } }
        try FileSystem.makeDirectory(FileSystem.directoryName(path))
        return try FileSystem.createExclusive(keyPath, bytes: text)
    }

    /// The key-encryption key for `protection`: from the key source (`keySource()`: the
    /// environment, a key command, the key file), or the passphrase through Argon2id (derived
    /// once per process). Other stores wrap their data keys with the same sources.
    public func keyEncryptionKey(for protection: VaultFormat.Protection) throws(NotionauthError) -> SecureBytes {
        switch protection {
        case .key:
            switch try keySource() {
            case .environmentKey: return try decodeEnvironmentKey(keys.environmentKey ?? "")
            case let .environmentCommand(command): return try key(from: command, origin: "NOTIONAUTH_KEY_COMMAND")
            case let .storedCommand(command): return try key(from: command, origin: "the key command in \(keyCommandPath)")
            case .keyFile: return try readKeyFile()
            }
        case let .passphrase(kdf):
            if let known = keys.obtained.key(for: kdf) { return known }
            let passphrase = try keys.passphrase(false)
            guard let key = Sodium.deriveKey(passphrase: passphrase, salt: kdf.salt, opsLimit: UInt64(kdf.opsLimit), memLimit: kdf.memLimit) else {
                throw .vault(path: path, reason: "the key derivation failed (out of memory?)")
            }
            keys.obtained.remember(key, for: kdf)
            return key
        }
    }

    /// The key `command` prints, run once per process.
    func key(from command: KeyCommand, origin: String) throws(NotionauthError) -> SecureBytes {
        if let known = keys.obtained.key(for: command) { return known }
        let key = try keys.commands.key(from: command, origin: origin, vaultPath: path)
        keys.obtained.remember(key, for: command)
        return key
    }

    private func decodeEnvironmentKey(_ value: String) throws(NotionauthError) -> SecureBytes {
        guard let key = Sodium.base64DecodeKey(Array(value.utf8), count: Sodium.keyBytes) else {
            throw .vault(path: path, reason: "NOTIONAUTH_VAULT_KEY is not base64 of 32 bytes")
        }
        return key
    }

    func readKeyFile() throws(NotionauthError) -> SecureBytes {
        guard let file = try FileSystem.readFile(keyPath) else {
            throw .vault(path: path, reason: "its key file \(keyPath) is missing; restore it, or set NOTIONAUTH_VAULT_KEY")
        }
        var bytes = file.bytes
        defer { for i in bytes.indices { bytes[i] = 0 } }
        // Like ssh with a private key: a key others can read is not a secret any more.
        guard file.mode & 0o077 == 0 else {
            throw .vault(path: path, reason: "its key file \(keyPath) is accessible by others (mode \(octal(file.mode))); run `chmod 600 \(keyPath)`")
        }
        guard file.owner == geteuid() else {
            throw .vault(path: path, reason: "its key file \(keyPath) belongs to another user")
        }
        guard let key = Sodium.base64DecodeKey(bytes, count: Sodium.keyBytes) else {
            throw .vault(path: path, reason: "its key file \(keyPath) does not hold base64 of 32 bytes")
        }
        return key
    }

    private func wrongKeyReason(_ protection: VaultFormat.Protection) -> String {
        switch protection {
        case .key:
            let source = (try? keySource()).map(phrase(for:)) ?? "the key"
            return "\(source) does not open it (wrong key, or the file was altered)"
        case .passphrase:
            return "the passphrase does not open it (wrong passphrase, or the file was altered)"
        }
    }
}

/// Keys obtained in this process: passphrase-derived keys by KDF parameters (salt included),
/// and the keys key commands printed, by command.
final class ObtainedKeys: @unchecked Sendable {
    // @unchecked: the arrays are guarded by `lock`.
    private let lock = NIOLock()
    private var derived: [(VaultFormat.KDFParameters, SecureBytes)] = []
    private var printed: [(KeyCommand, SecureBytes)] = []

    func key(for kdf: VaultFormat.KDFParameters) -> SecureBytes? {
        lock.withLock { derived.first { $0.0 == kdf }?.1 }
    }

    func remember(_ key: SecureBytes, for kdf: VaultFormat.KDFParameters) {
        lock.withLock { derived.append((kdf, key)) }
    }

    func key(for command: KeyCommand) -> SecureBytes? {
        lock.withLock { printed.first { $0.0 == command }?.1 }
    }

    func remember(_ key: SecureBytes, for command: KeyCommand) {
        lock.withLock { printed.append((command, key)) }
    }
}

public func octal(_ mode: UInt32) -> String {
    var digits = ""
    var value = mode
    repeat {
        digits = String(value % 8) + digits
        value /= 8
    } while value > 0
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

/// A decrypted view of the vault file: the index is open, records decrypt on demand.
public final class OpenVault {
    public let path: String
    let sealed: VaultFormat.Sealed?
    let index: VaultFormat.Index?
    let dataKey: SecureBytes?
    let keyEncryptionKey: SecureBytes?

    init(path: String, sealed: VaultFormat.Sealed? = nil, index: VaultFormat.Index? = nil, dataKey: SecureBytes? = nil, keyEncryptionKey: SecureBytes? = nil) {
        self.path = path
        self.sealed = sealed
        self.index = index
        self.dataKey = dataKey
        self.keyEncryptionKey = keyEncryptionKey
    }

    private var entries: [VaultFormat.IndexEntry] {
        get throws(NotionauthError) {
            do {
                return try index?.entries() ?? []
            } catch {
                throw .vault(path: path, reason: error.reason)
            }
        }
    }

    /// Whether a vault file exists at all.
    public var exists: Bool { sealed != nil }
    public var protection: VaultFormat.Protection? { sealed?.protection }
    public var recordNames: [String] { get throws(NotionauthError) { try entries.map(\.name) } }

    /// One record's plaintext, or nil when there is no record of that name.
    public func record(named name: String) throws(NotionauthError) -> [UInt8]? {
        guard let entry = index?.entry(named: name) else { return nil }
        return try open(entry)
    }

    private func open(_ entry: VaultFormat.IndexEntry) throws(NotionauthError) -> [UInt8] {
        guard let sealed, let index, let dataKey else { return [] }
        do {
            return try sealed.openRecord(entry, in: index, dataKey: dataKey)
        } catch {
            throw .vault(path: path, reason: error.reason)
        }
    }

    /// Every record decrypted, which also proves the whole file intact.
    public func allRecords() throws(NotionauthError) -> [String: [UInt8]] {
        var all: [String: [UInt8]] = [:]
        for (name, bytes) in try records(withPrefix: "") {
            all[name] = bytes
        }
        return all
    }

    /// The records whose names start with `prefix`, in name order, each decrypted once.
    public func records(withPrefix prefix: String) throws(NotionauthError) -> [(name: String, bytes: [UInt8])] {
        var result: [(name: String, bytes: [UInt8])] = []
        for entry in try entries where entry.name.hasPrefix(prefix) {
            result.append((entry.name, try open(entry)))
        }
        return result
    }
}

/// The vault's records in the clear, as an `update` sees and changes them.
public struct VaultContents {
    public var records: [String: [UInt8]]
    public let protection: VaultFormat.Protection?
    /// Set to re-encrypt under new protection (switching between key file and passphrase).
    public var rekey: (protection: VaultFormat.Protection, keyEncryptionKey: SecureBytes)?
    /// The key that opened the vault, which moving a key to another place keeps.
    let keyEncryptionKey: SecureBytes?

    init(_ vault: OpenVault) throws(NotionauthError) {
        records = try vault.allRecords()
        protection = vault.protection
        keyEncryptionKey = vault.keyEncryptionKey
    }
}
