/// The vault file format, version 1, as specified in notionauth-vault(5).
///
/// Records are encrypted one by one and listed in an encrypted index, so reading one
/// connection decrypts the index and that record only: the cost of `get` does not grow
/// with the number of connections. Every byte of the file is authenticated: the header is
/// the additional data of the data key, the index and every record, and the index fixes
/// every record's length and nonce, so the file's exact size is known.
public enum VaultFormat {
    public static let magic: [UInt8] = Array("NAUTHVLT".utf8)
    public static let version: UInt16 = 1
    public static let headerSize = 140

    /// Argon2id limits accepted when reading, so a hostile file cannot make us allocate or
    /// compute without bound (libsodium's "sensitive" level is 4 passes and 1 GiB).
    public static let maxOpsLimit: UInt32 = 16
    public static let maxMemLimit: UInt64 = 1 << 30
    static let maxNameLength = 1024

    public enum Protection: Equatable, Sendable {
        /// A random 32-byte key (key file or NOTIONAUTH_VAULT_KEY) is the key-encryption key.
        case key
        /// The key-encryption key is Argon2id(passphrase, salt).
        case passphrase(KDFParameters)
    }

    public struct KDFParameters: Equatable, Sendable {
        public var opsLimit: UInt32
        public var memLimit: UInt64
        public var salt: [UInt8]

        public init(opsLimit: UInt32, memLimit: UInt64, salt: [UInt8]) {
            self.opsLimit = opsLimit
            self.memLimit = memLimit
            self.salt = salt
        }
    }

    /// Why a file could not be read; the vault turns it into a user-facing error with the path.
    struct Failure: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    public struct IndexEntry: Sendable {
        public var name: String
        var offset: Int
        var length: Int
        var nonce: ArraySlice<UInt8>
    }

    /// A vault file that has been checked for shape but not yet decrypted.
    public struct Sealed {
        let bytes: [UInt8]
        public let protection: Protection

        init(bytes: [UInt8]) throws(Failure) {
            guard bytes.count >= headerSize else {
                throw Failure(bytes.isEmpty ? "the file is empty" : "the file is truncated (\(bytes.count) bytes)")
            }
            guard Array(bytes[0..<8]) == magic else { throw Failure("not a notionauth vault (bad magic bytes)") }
            let fileVersion = readUInt16(bytes, at: 8)
            guard fileVersion == version else {
                throw Failure("format version \(fileVersion) is not supported by this notionauth (it reads version \(version)); upgrade notionauth")
            }
            let algorithm = bytes[11]
            let ops = readUInt32(bytes, at: 12)
            let mem = readUInt64(bytes, at: 16)
            let salt = Array(bytes[24..<40])
            switch bytes[10] {
            case 1:
                guard algorithm == 0, ops == 0, mem == 0, salt.allSatisfy({ $0 == 0 }) else {
                    throw Failure("a key-protected vault carries KDF parameters")
                }
                protection = .key
            case 2:
                guard algorithm == Sodium.argon2id13 else { throw Failure("unknown KDF algorithm \(algorithm)") }
                guard ops >= 1, ops <= maxOpsLimit, mem >= 8192, mem <= maxMemLimit else {
                    throw Failure("KDF limits out of bounds (opslimit \(ops), memlimit \(mem) bytes; at most \(maxOpsLimit) and \(maxMemLimit))")
                }
                protection = .passphrase(KDFParameters(opsLimit: ops, memLimit: mem, salt: salt))
            case let other:
                throw Failure("unknown protection \(other)")
            }
            let indexLength = Int(readUInt32(bytes, at: 136))
            guard indexLength >= Sodium.tagBytes + 4, headerSize + indexLength <= bytes.count else {
                throw Failure("the file is truncated or its index length is wrong")
            }
            self.bytes = bytes
        }

        var header: ArraySlice<UInt8> { bytes[0..<headerSize] }

        /// The data key, or nil when the key-encryption key is wrong or the header was altered.
        public func unwrapDataKey(with keyEncryptionKey: SecureBytes) -> SecureBytes? {
            Sodium.openKey(bytes[64..<112], additionalData: bytes[0..<64], nonce: bytes[40..<64], key: keyEncryptionKey)
        }

        /// Decrypts and parses the index, and checks that the records fill the rest of the file exactly.
        func openIndex(dataKey: SecureBytes) throws(Failure) -> [IndexEntry] {
            let indexLength = Int(readUInt32(bytes, at: 136))
            let ciphertext = bytes[headerSize..<(headerSize + indexLength)]
            guard let plain = Sodium.open(ciphertext, additionalData: header, nonce: bytes[112..<136], key: dataKey) else {
                throw Failure("the index does not authenticate (the file was altered)")
            }
            var reader = ByteReader(plain)
            var entries: [IndexEntry] = []
            var offset = headerSize + indexLength
            func malformed(_ failure: Failure) -> Failure { Failure("the index is malformed: \(failure.reason)") }
            do throws(Failure) {
                let count = try reader.uint32()
                entries.reserveCapacity(Int(min(count, 1 << 20)))
                for _ in 0..<count {
                    let nameLength = Int(try reader.uint16())
                    let nameBytes = try reader.bytes(nameLength)
                    let length = Int(try reader.uint32())
                    let nonce = try reader.bytes(Sodium.nonceBytes)
                    guard length >= Sodium.tagBytes else { throw Failure("a record is shorter than its tag") }
                    entries.append(IndexEntry(name: String(decoding: nameBytes, as: UTF8.self), offset: offset, length: length, nonce: nonce))
                    offset += length
                    guard offset <= bytes.count else { throw Failure("the file is truncated") }
                }
                guard reader.isAtEnd else { throw Failure("the index has trailing bytes") }
            } catch {
                throw malformed(error)
            }
            guard offset == bytes.count else {
                throw Failure(offset > bytes.count ? "the file is truncated" : "the file has trailing bytes")
            }
            return entries
        }

        /// Decrypts one record; fails if its bytes, its place or the header were altered.
        func openRecord(_ entry: IndexEntry, dataKey: SecureBytes) throws(Failure) -> [UInt8] {
            let ciphertext = bytes[entry.offset..<(entry.offset + entry.length)]
            guard let plain = Sodium.open(ciphertext, additionalData: recordAdditionalData(entry.name), nonce: entry.nonce, key: dataKey) else {
                throw Failure("record '\(entry.name)' does not authenticate (the file was altered)")
            }
            return plain
        }

        func recordAdditionalData(_ name: String) -> ArraySlice<UInt8> {
            ArraySlice(Array(header) + Array(name.utf8))
        }
    }

    /// Encrypts `records` (name → plaintext) into a complete file, with fresh nonces throughout.
    public static func seal(
        records: [(name: String, plaintext: [UInt8])],
        protection: Protection,
        keyEncryptionKey: SecureBytes,
        dataKey: SecureBytes
    ) -> [UInt8] {
        let sorted = records.sorted { $0.name < $1.name }
        var header = magic
        appendUInt16(&header, version)
        switch protection {
        case .key:
            header += [1, 0]
            appendUInt32(&header, 0)
            appendUInt64(&header, 0)
            header += [UInt8](repeating: 0, count: Sodium.saltBytes)
        case let .passphrase(kdf):
            header += [2, Sodium.argon2id13]
            appendUInt32(&header, kdf.opsLimit)
            appendUInt64(&header, kdf.memLimit)
            header += kdf.salt
        }
        let keyNonce = Sodium.randomBytes(Sodium.nonceBytes)
        header += keyNonce
        let wrappedKey = dataKey.withUnsafeBytes { Sodium.seal($0, additionalData: header, nonce: keyNonce, key: keyEncryptionKey) }
        header += wrappedKey
        let indexNonce = Sodium.randomBytes(Sodium.nonceBytes)
        header += indexNonce

        var index: [UInt8] = []
        appendUInt32(&index, UInt32(sorted.count))
        let nonces = sorted.map { _ in Sodium.randomBytes(Sodium.nonceBytes) }
        for (record, nonce) in zip(sorted, nonces) {
            let name = Array(record.name.utf8)
            precondition(name.count <= maxNameLength, "record name too long")
            appendUInt16(&index, UInt16(name.count))
            index += name
            appendUInt32(&index, UInt32(record.plaintext.count + Sodium.tagBytes))
            index += nonce
        }
        appendUInt32(&header, UInt32(index.count + Sodium.tagBytes))
        precondition(header.count == headerSize)

        var file = header
        file += Sodium.seal(index, additionalData: header, nonce: indexNonce, key: dataKey)
        for (record, nonce) in zip(sorted, nonces) {
            file += Sodium.seal(record.plaintext, additionalData: header + Array(record.name.utf8), nonce: nonce, key: dataKey)
        }
        return file
    }
}

private struct ByteReader {
    let data: [UInt8]
    var position = 0

    init(_ data: [UInt8]) { self.data = data }

    var isAtEnd: Bool { position == data.count }

    mutating func bytes(_ count: Int) throws(VaultFormat.Failure) -> ArraySlice<UInt8> {
        guard count <= data.count - position else { throw VaultFormat.Failure("it ends early") }
        defer { position += count }
        return data[position..<(position + count)]
    }

    mutating func uint16() throws(VaultFormat.Failure) -> UInt16 {
        let b = try bytes(2)
        return UInt16(b[b.startIndex]) | UInt16(b[b.startIndex + 1]) << 8
    }

    mutating func uint32() throws(VaultFormat.Failure) -> UInt32 {
        let b = try bytes(4)
        return readUInt32(Array(b), at: 0)
    }
}

func readUInt16(_ bytes: [UInt8], at offset: Int) -> UInt16 {
    UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
}

func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
}

func readUInt64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
    (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
}

func appendUInt16(_ bytes: inout [UInt8], _ value: UInt16) {
    bytes += [UInt8(value & 0xff), UInt8(value >> 8)]
}

func appendUInt32(_ bytes: inout [UInt8], _ value: UInt32) {
    for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((value >> UInt32(shift)) & 0xff)) }
}

func appendUInt64(_ bytes: inout [UInt8], _ value: UInt64) {
    for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8((value >> UInt64(shift)) & 0xff)) }
}
