import NotionAuthCore
import NotionAuthLogin
public enum VaultAction: String, CaseIterable, Sendable {
    case status, verify, passphrase, keyfile, keyring
    case keyCommand = "key-command"
}

/// `notionauth vault [status|verify|passphrase|keyfile|keyring|key-command CMD]`
struct VaultCommand: CommandDefinition {
    static let spec = CommandSpec(
        name: "vault", synopsis: "vault [status|verify|passphrase|keyfile|keyring|key-command CMD]",
        summary: "show or change how the vault is protected",
        options: [],
        minPositionals: 0, maxPositionals: 2,
        details: """
        status       format version, key source, KDF parameters, connection count (the default)
        verify       decrypt every record, proving the whole file intact
        passphrase   protect the vault with a passphrase (Argon2id) instead of the key
        keyfile      keep the key in the key file again (from a passphrase, a key command or the
                     keyring; NOTIONAUTH_VAULT_KEY or NOTIONAUTH_KEY_COMMAND when set)
        keyring      move the key into the desktop keyring (secret-tool), and read it from there
        key-command  read the key from what CMD prints, as NOTIONAUTH_KEY_COMMAND does; CMD must
                     print the vault's key (from a passphrase, the vault gets CMD's key)
        The passphrase comes from NOTIONAUTH_PASSPHRASE, the file descriptor in
        NOTIONAUTH_PASSPHRASE_FD, or a no-echo prompt on a terminal.
        CMD runs without a shell: words split at blanks, quotes as in sh, no expansion.

        Examples:
          pass insert -m notionauth/vault-key < ~/.config/notionauth/vault.key
          notionauth vault key-command 'pass show notionauth/vault-key'
          notionauth vault keyring
        """,
        operands: .words(VaultAction.allCases.map(\.rawValue)))

    let action: VaultAction
    /// For `key-command`.
    let command: KeyCommand?

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        let word = arguments.firstPositional ?? VaultAction.status.rawValue
        guard let action = VaultAction(rawValue: word) else {
            throw .usage("unknown vault action '\(word)'; actions: \(VaultAction.allCases.map(\.rawValue).joined(separator: ", "))", command: Self.spec.name)
        }
        self.action = action
        let operand = arguments.positionals.dropFirst().first
        guard action == .keyCommand else {
            if let operand { throw .usage("unexpected argument '\(operand)'", command: Self.spec.name) }
            command = nil
            return
        }
        guard let operand else {
            throw .usage("vault key-command needs the command that prints the key, as in `notionauth vault key-command 'pass show notionauth/vault-key'`", command: Self.spec.name)
        }
        do {
            command = try KeyCommand(parsing: operand)
        } catch {
            throw .usage("cannot read the key command: \(error.reason)", command: Self.spec.name)
        }
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        switch action {
        case .status: return try Self.status(session)
        case .verify: return try Self.verify(session)
        case .passphrase: return try Self.switchToPassphrase(session)
        case .keyfile: return try Self.moveToKeyFile(session)
        case .keyring: return try Self.moveToKeyring(session)
        case .keyCommand: return try Self.move(to: command!, session: session)
        }
    }

    private static func status(_ session: Session) throws(NotionauthError) -> ExitStatus {
        let vault = session.vault
        let open = try vault.open()
        var fields: [(String, JSONValue)] = [("path", .string(vault.path)), ("exists", .bool(open.exists))]
        if open.exists {
            fields.append(("format_version", .int(Int64(VaultFormat.version))))
            switch open.protection {
            case let .passphrase(kdf)?:
                fields += [
                    ("protection", .string("passphrase")),
                    ("kdf", .string("argon2id13")),
                    ("kdf_opslimit", .int(Int64(kdf.opsLimit))),
                    ("kdf_memlimit_bytes", .int(Int64(kdf.memLimit))),
                ]
            default:
                let source = try vault.keySource()
                fields += [("protection", .string("key")), ("key_source", .string(vault.name(of: source)))]
                if let command = source.command { fields.append(("key_command", .string(command.text))) }
            }
            fields.append(("connections", .int(Int64(try open.connectionCount))))
            fields.append(("records", .int(Int64(try open.recordNames.count))))
        }
        if session.global.json {
            session.output(jsonObject(["vault": .object(Dictionary(uniqueKeysWithValues: fields))]))
        } else if !open.exists {
            session.output("no vault yet at \(vault.path); the first login creates it\n")
        } else {
            let width = fields.map(\.0.count).max() ?? 0
            session.output(fields.map { "\($0.0.padding(to: width))  \($0.1.stringValue ?? $0.1.encoded())\n" }.joined())
        }
        return .success
    }

    private static func verify(_ session: Session) throws(NotionauthError) -> ExitStatus {
        let open = try session.vault.open()
        guard open.exists else {
            session.info("There is no vault at \(session.vault.path) yet; nothing to verify.")
            return .success
        }
        let count = try open.verifyEveryRecord()
        session.info("The vault \(session.vault.path) is intact: \(count) records decrypted and authenticated.")
        return .success
    }

    private static func switchToPassphrase(_ session: Session) throws(NotionauthError) -> ExitStatus {
        let vault = session.vault
        let existing = try vault.open()
        if case .passphrase? = existing.protection {
            throw .failure("the vault is already protected by a passphrase")
        }
        let hadKeyFile = FileSystem.exists(vault.keyPath)
        let storedBefore = try vault.storedKeyCommand()
        // Asked before the write begins, where Ctrl-C still ends the command.
        let passphrase = try vault.keys.passphrase(true)
        let kdf = VaultFormat.KDFParameters(
            opsLimit: UInt32(Sodium.interactiveOpsLimit), memLimit: Sodium.interactiveMemLimit,
            salt: Sodium.randomBytes(Sodium.saltBytes))
        guard let key = Sodium.deriveKey(passphrase: passphrase, salt: kdf.salt, opsLimit: UInt64(kdf.opsLimit), memLimit: kdf.memLimit) else {
            throw .failure("the key derivation failed (out of memory?)")
        }
        try vault.update { (contents: inout VaultContents) throws(NotionauthError) in
            if case .passphrase? = contents.protection {
                throw .failure("the vault is already protected by a passphrase")
            }
            contents.rekey = (.passphrase(kdf), key)
        }
        var done = existing.exists ? "The vault is now protected by a passphrase" : "Created an empty vault at \(vault.path), protected by a passphrase"
        if vault.keys.environmentKey != nil && existing.exists {
            done += "; unset NOTIONAUTH_VAULT_KEY"
        } else if vault.keys.environmentCommand != nil && existing.exists {
            done += "; unset NOTIONAUTH_KEY_COMMAND"
        } else if hadKeyFile {
            done += "; the key file \(vault.keyPath) was removed"
        }
        var notes: [String] = []
        if let storedBefore, vault.retire(storedBefore, notes: &notes) {
            done += "; its key was removed from the keyring"
        }
        session.info(done + ".")
        for note in notes { session.warn(note) }
        return .success
    }

    private static func moveToKeyFile(_ session: Session) throws(NotionauthError) -> ExitStatus {
        let vault = session.vault
        let move = try vault.moveKeyToKeyFile()
        if move.wasPassphrase {
            let source: String
            switch try vault.keySource() {
            case .environmentKey: source = "the key in NOTIONAUTH_VAULT_KEY"
            case let .environmentCommand(command): source = "the key that NOTIONAUTH_KEY_COMMAND (\(command.program)) prints"
            default: source = "the key file \(vault.keyPath)"
            }
            session.info("The vault is now protected by \(source).")
        } else {
            session.info("The vault's key is now in the key file \(vault.keyPath)" + (move.clearedKeyring ? "; it was removed from the keyring." : "."))
        }
        for note in move.notes { session.warn(note) }
        return .success
    }

    private static func moveToKeyring(_ session: Session) throws(NotionauthError) -> ExitStatus {
        let vault = session.vault
        let move = try vault.moveKeyToKeyring()
        report(move, place: "in the keyring", session: session)
        return .success
    }

    private static func move(to command: KeyCommand, session: Session) throws(NotionauthError) -> ExitStatus {
        let move = try session.vault.moveKey(to: command)
        report(move, place: "read from what \(command.program) prints (\(session.vault.keyCommandPath))", session: session)
        return .success
    }

    private static func report(_ move: KeyMove, place: String, session: Session) {
        let vault = session.vault
        var done: String
        if move.createdVault {
            done = "Created an empty vault at \(vault.path); its key is \(place)"
        } else if move.wasPassphrase {
            done = "The vault is now protected by a key instead of the passphrase; the key is \(place)"
        } else {
            done = "The vault's key is now \(place)"
        }
        if move.removedKeyFile { done += "; the key file \(vault.keyPath) was removed" }
        session.info(done + ".")
        for note in move.notes { session.warn(note) }
    }
}
