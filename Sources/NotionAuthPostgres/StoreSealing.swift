import NotionAuthCore

/// The additional data that binds every sealed value to where it belongs
/// (notionauth-store(5), SEALING): the store's id and the namespace, and for records the
/// record's name (RecordSeal appends it).
struct StoreSealing {
    let storeID: [UInt8]
    let namespace: String

    static let recordMagic = Array("notionauth-store-record-v1".utf8) + [0]
    static let keyMagic = Array("notionauth-store-key-v1".utf8) + [0]

    /// store id (16 bytes) || u16 big-endian byte length of the namespace || namespace.
    private var place: [UInt8] {
        let name = Array(namespace.utf8)
        return storeID + [UInt8(name.count >> 8), UInt8(name.count & 0xff)] + name
    }

    var recordContext: [UInt8] { Self.recordMagic + place }

    func keyAdditionalData(_ protection: VaultFormat.Protection) -> [UInt8] {
        var data = Self.keyMagic + place
        switch protection {
        case .key:
            data.append(1)
        case let .passphrase(kdf):
            data.append(2)
            data += bigEndian(UInt64(kdf.opsLimit)) + bigEndian(kdf.memLimit) + kdf.salt
        }
        return data
    }

    func seal(_ plaintext: [UInt8], name: String, key: SecureBytes) -> SealedRow {
        let nonce = Sodium.randomBytes(Sodium.nonceBytes)
        return SealedRow(nonce: nonce, sealed: RecordSeal.seal(plaintext, context: recordContext, name: name, nonce: nonce, key: key))
    }

    func open(_ row: SealedRow, name: String, key: SecureBytes) -> [UInt8]? {
        RecordSeal.open(row.sealed[...], context: recordContext, name: name, nonce: row.nonce[...], key: key)
    }

    func wrap(_ dataKey: SecureBytes, protection: VaultFormat.Protection, with keyEncryptionKey: SecureBytes) -> KeyRow {
        let nonce = Sodium.randomBytes(Sodium.nonceBytes)
        let wrapped = dataKey.withUnsafeBytes {
            Sodium.seal($0, additionalData: keyAdditionalData(protection), nonce: nonce, key: keyEncryptionKey)
        }
        return KeyRow(protection: protection, nonce: nonce, wrappedKey: wrapped)
    }

    func unwrap(_ row: KeyRow, with keyEncryptionKey: SecureBytes) -> SecureBytes? {
        Sodium.openKey(row.wrappedKey[...], additionalData: keyAdditionalData(row.protection)[...], nonce: row.nonce[...], key: keyEncryptionKey)
    }

    private func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }
}

/// A namespace's row in notionauth_namespace_keys: its data key, wrapped.
struct KeyRow {
    let protection: VaultFormat.Protection
    let nonce: [UInt8]
    let wrappedKey: [UInt8]

    init(protection: VaultFormat.Protection, nonce: [UInt8], wrappedKey: [UInt8]) {
        self.protection = protection
        self.nonce = nonce
        self.wrappedKey = wrappedKey
    }

    /// From the row's columns; Argon2id limits beyond the vault's caps are refused before
    /// any derivation, as in the vault.
    init(namespace: String, protection: String, opsLimit: Int64?, memLimit: Int64?, salt: [UInt8]?, nonce: [UInt8], wrappedKey: [UInt8], location: String) throws(NotionauthError) {
        func bad(_ why: String) -> NotionauthError {
            .store(location: location, reason: "the key row of namespace '\(namespace)' \(why)")
        }
        switch protection {
        case "key":
            self.protection = .key
        case "passphrase":
            guard let opsLimit, let memLimit, let salt, salt.count == Sodium.saltBytes else { throw bad("lacks its Argon2id parameters") }
            guard opsLimit >= 1, opsLimit <= Int64(VaultFormat.maxOpsLimit), memLimit >= 8192, UInt64(memLimit) <= VaultFormat.maxMemLimit else {
                throw bad("has Argon2id limits out of bounds (opslimit \(opsLimit), memlimit \(memLimit))")
            }
            self.protection = .passphrase(VaultFormat.KDFParameters(opsLimit: UInt32(opsLimit), memLimit: UInt64(memLimit), salt: salt))
        default:
            throw bad("has an unknown protection '\(protection)'")
        }
        guard nonce.count == Sodium.nonceBytes, wrappedKey.count == Sodium.keyBytes + Sodium.tagBytes else { throw bad("is malformed") }
        self.nonce = nonce
        self.wrappedKey = wrappedKey
    }

    var protectionName: String {
        if case .passphrase = protection { return "passphrase" }
        return "key"
    }

    var opsLimit: Int64? {
        if case let .passphrase(kdf) = protection { return Int64(kdf.opsLimit) }
        return nil
    }

    var memLimit: Int64? {
        if case let .passphrase(kdf) = protection { return Int64(kdf.memLimit) }
        return nil
    }

    var salt: [UInt8]? {
        if case let .passphrase(kdf) = protection { return kdf.salt }
        return nil
    }
}
