import NotionAuthCore
import NotionAuthLogin
public enum VaultAction: String, CaseIterable, Sendable {
    case status, verify, passphrase, keyfile
}

/// `notionauth vault [status|verify|passphrase|keyfile]`
struct VaultCommand: CommandDefinition {
    static let spec = CommandSpec(
        name: "vault", synopsis: "vault [status|verify|passphrase|keyfile]",
        summary: "show or change how the vault is protected",
        options: [],
        minPositionals: 0, maxPositionals: 1,
        details: """
        status      format version, key source, KDF parameters, connection count (the default)
        verify      decrypt every record, proving the whole file intact
        passphrase  protect the vault with a passphrase (Argon2id) instead of the key file
        keyfile     protect the vault with a random key file again (or NOTIONAUTH_VAULT_KEY when set)
        The passphrase comes from NOTIONAUTH_PASSPHRASE, the file descriptor in
        NOTIONAUTH_PASSPHRASE_FD, or a no-echo prompt on a terminal.
        """,
        operands: .words(VaultAction.allCases.map(\.rawValue)))

    let action: VaultAction

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        let word = arguments.firstPositional ?? VaultAction.status.rawValue
        guard let action = VaultAction(rawValue: word) else {
            throw .usage("unknown vault action '\(word)'; actions: \(VaultAction.allCases.map(\.rawValue).joined(separator: ", "))", command: Self.spec.name)
        }
        self.action = action
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        try Self.run(action, session: session)
    }

    static func run(_ action: VaultAction, session: Session) throws(NotionauthError) -> ExitStatus {
        switch action {
        case .status: return try status(session)
        case .verify: return try verify(session)
        case .passphrase: return try switchToPassphrase(session)
        case .keyfile: return try switchToKeyFile(session)
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
                let source = vault.keys.environmentKey != nil ? "NOTIONAUTH_VAULT_KEY" : vault.keyPath
                fields += [("protection", .string("key")), ("key_source", .string(source))]
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
        } else if hadKeyFile {
            done += "; the key file \(vault.keyPath) was removed"
        }
        session.info(done + ".")
        return .success
    }

    private static func switchToKeyFile(_ session: Session) throws(NotionauthError) -> ExitStatus {
        let vault = session.vault
        try vault.update { (contents: inout VaultContents) throws(NotionauthError) in
            guard case .passphrase? = contents.protection else {
                throw .failure(contents.protection == nil ? "there is no vault yet; the first login creates one protected by a key file" : "the vault is already protected by a key")
            }
            contents.rekey = (.key, try vault.keyForKeyProtection())
        }
        let source = vault.keys.environmentKey != nil ? "the key in NOTIONAUTH_VAULT_KEY" : "the key file \(vault.keyPath)"
        session.info("The vault is now protected by \(source).")
        return .success
    }
}
