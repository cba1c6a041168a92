#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The vault file format, version 1, as specified in notionauth-vault(5).
///
/// Records are encrypted one by one and listed in an encrypted index, so reading one
/// connection reads and decrypts the header, the index and that record only. Every byte
/// of the file is authenticated: the header is the additional data of the data key, the
/// index and every record; the index fixes every record's length (and, by its position,
/// its nonce), so the file's exact size is known.
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

    /// The classes of failure notionauth-vault(5) names (section FAILURES), so that a test
    /// vector can say which one a file must be refused with.
    public enum FailureClass: String, CaseIterable, Sendable {
        /// Not a well-formed version 1 file: size, magic, header fields, index layout, names.
        case format
        /// A version other than 1.
        case unsupportedVersion = "unsupported_version"
        /// Argon2id limits outside the caps, refused before any derivation.
        case kdfLimits = "kdf_limits"
        /// The key file or NOTIONAUTH_VAULT_KEY is not padded standard base64 of 32 bytes.
        case keyEncoding = "key_encoding"
        /// The wrapped data key does not decrypt: a wrong key or passphrase, or an altered header.
        case wrongKeyOrAltered = "wrong_key_or_altered"
        /// The data key decrypts but the index or a record does not authenticate.
        case altered
        /// A record authenticates but is not the field list its name calls for.
        case recordFormat = "record_format"
    }

    /// Why a file could not be read; the vault turns it into a user-facing error with the path.
    struct Failure: Error {
        var kind: FailureClass
        var reason: String
        init(_ kind: FailureClass, _ reason: String) {
            self.kind = kind
            self.reason = reason
        }
        /// A malformed file (`format`), the usual case.
        init(_ reason: String) { self.init(.format, reason) }
    }

    public struct IndexEntry: Sendable {
        public var name: String
        var position: Int
        var offset: Int
        var length: Int
    }

    /// Where a sealed vault's bytes come from: a whole buffer, or an open file read in
    /// ranges so that `get` never reads the records it does not need.
    public struct Source {
        let size: Int
        let read: (_ offset: Int, _ count: Int) throws(Failure) -> [UInt8]

        public init(bytes: [UInt8]) {
            size = bytes.count
            read = { (offset: Int, count: Int) throws(Failure) -> [UInt8] in Array(bytes[offset..<(offset + count)]) }
        }

        init(size: Int, read: @escaping (_ offset: Int, _ count: Int) throws(Failure) -> [UInt8]) {
            self.size = size
            self.read = read
        }
    }

    /// A vault file whose header has been checked but nothing decrypted yet.
    public struct Sealed {
        let source: Source
        let header: [UInt8]
        public let protection: Protection
        let indexLength: Int

        init(bytes: [UInt8]) throws(Failure) {
            try self.init(source: Source(bytes: bytes))
        }

        init(source: Source) throws(Failure) {
            guard source.size >= headerSize else {
                throw Failure(source.size == 0 ? "the file is empty" : "the file is truncated (\(source.size) bytes)")
            }
            let bytes = try source.read(0, headerSize)
            guard Array(bytes[0..<8]) == magic else { throw Failure("not a notionauth vault (bad magic bytes)") }
            let fileVersion = readUInt16(bytes, at: 8)
            guard fileVersion == version else {
                throw Failure(.unsupportedVersion, "format version \(fileVersion) is not supported by this notionauth (it reads version \(version)); upgrade notionauth")
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
                    throw Failure(.kdfLimits, "KDF limits out of bounds (opslimit \(ops), memlimit \(mem) bytes; at most \(maxOpsLimit) and \(maxMemLimit))")
                }
                protection = .passphrase(KDFParameters(opsLimit: ops, memLimit: mem, salt: salt))
            case let other:
                throw Failure("unknown protection \(other)")
            }
            indexLength = Int(readUInt32(bytes, at: 136))
            guard indexLength >= Sodium.tagBytes + 4 + recordNoncePrefixSize, headerSize + indexLength <= source.size else {
                throw Failure("the file is truncated or its index length is wrong")
            }
            self.source = source
            self.header = bytes
        }

        /// The data key, or nil when the key-encryption key is wrong or the header was altered.
        public func unwrapDataKey(with keyEncryptionKey: SecureBytes) -> SecureBytes? {
            Sodium.openKey(header[64..<112], additionalData: header[0..<64], nonce: header[40..<64], key: keyEncryptionKey)
        }

        /// Decrypts the index and checks that the records it lists fill the rest of the file exactly.
        func openIndex(dataKey: SecureBytes) throws(Failure) -> Index {
            let ciphertext = try source.read(headerSize, indexLength)
            guard let plain = Sodium.open(ciphertext[...], additionalData: header[...], nonce: header[112..<136], key: dataKey) else {
                throw Failure(.altered, "the index does not authenticate (the file was altered)")
            }
            return try Index(plain: plain, recordsStart: headerSize + indexLength, fileSize: source.size)
        }

        /// Decrypts one record; fails if its bytes, its place or the header were altered.
        func openRecord(_ entry: IndexEntry, in index: Index, dataKey: SecureBytes) throws(Failure) -> [UInt8] {
            let ciphertext = try source.read(entry.offset, entry.length)
            let nonce = index.recordNonce(position: entry.position)
            guard let plain = RecordSeal.open(ciphertext[...], context: header, name: entry.name, nonce: nonce[...], key: dataKey) else {
                throw Failure(.altered, "record '\(entry.name)' does not authenticate (the file was altered)")
            }
            return plain
        }
    }

    static let recordNoncePrefixSize = 16

    /// The decrypted index: u32 count, a 16-byte record-nonce prefix, then per record a u16
    /// name length, the name and a u32 ciphertext length. Entries are parsed on demand so
    /// finding one record does not build a string for every other.
    struct Index {
        let plain: [UInt8]
        let count: Int
        /// Byte offset in `plain` of each entry, and file offset of each record.
        let entryStarts: [Int]
        let recordOffsets: [Int]

        init(plain: [UInt8], recordsStart: Int, fileSize: Int) throws(Failure) {
            self.plain = plain
            let count = Int(readUInt32(plain, at: 0))
            self.count = count
            var entryStarts: [Int] = []
            var recordOffsets: [Int] = []
            entryStarts.reserveCapacity(min(count, plain.count / 6))
            recordOffsets.reserveCapacity(min(count, plain.count / 6))
            // Raw pointers, not slices: this loop runs over every entry on every `get`, and
            // slices would retain and release the buffer at each step.
            let problem: String? = plain.withUnsafeBufferPointer { p in
                var position = 4 + recordNoncePrefixSize
                var offset = recordsStart
                var previous: (start: Int, length: Int)?
                for _ in 0..<count {
                    guard position + 2 <= p.count else { return "the index is malformed: it ends early" }
                    let nameLength = Int(p[position]) | Int(p[position + 1]) << 8
                    guard position + 2 + nameLength + 4 <= p.count else { return "the index is malformed: it ends early" }
                    let lengthAt = position + 2 + nameLength
                    let length = Int(p[lengthAt]) | Int(p[lengthAt + 1]) << 8 | Int(p[lengthAt + 2]) << 16 | Int(p[lengthAt + 3]) << 24
                    guard length >= Sodium.tagBytes else { return "the index is malformed: a record is shorter than its tag" }
                    // Names are strictly ascending, so no name can appear twice.
                    if let previous, Self.compare(p, previous.start, previous.length, position + 2, nameLength) >= 0 {
                        return "the index is malformed: record names are not unique and in order"
                    }
                    previous = (position + 2, nameLength)
                    entryStarts.append(position)
                    recordOffsets.append(offset)
                    offset += length
                    guard offset <= fileSize else { return "the file is truncated" }
                    position = lengthAt + 4
                }
                guard position == p.count else { return "the index is malformed: it has trailing bytes" }
                guard offset == fileSize else { return "the file has trailing bytes" }
                return nil
            }
            if let problem { throw Failure(problem) }
            self.entryStarts = entryStarts
            self.recordOffsets = recordOffsets
        }

        /// memcmp order of two byte ranges of the index: negative, zero or positive.
        private static func compare(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ aLength: Int, _ b: Int, _ bLength: Int) -> Int {
            let common = memcmp(p.baseAddress! + a, p.baseAddress! + b, min(aLength, bLength))
            if common != 0 { return Int(common) }
            return aLength - bLength
        }

        func recordNonce(position: Int) -> [UInt8] {
            var nonce = Array(plain[4..<(4 + recordNoncePrefixSize)])
            appendUInt64(&nonce, UInt64(position))
            return nonce
        }

        private func nameBytes(at position: Int) -> ArraySlice<UInt8> {
            let start = entryStarts[position]
            let length = Int(readUInt16(plain, at: start))
            return plain[(start + 2)..<(start + 2 + length)]
        }

        private func entry(at position: Int) -> IndexEntry {
            let name = nameBytes(at: position)
            let lengthAt = name.endIndex
            return IndexEntry(
                name: String(decoding: name, as: UTF8.self), position: position,
                offset: recordOffsets[position], length: Int(readUInt32(plain, at: lengthAt)))
        }

        /// Binary search: names are in byte order (checked when the index was read).
        func entry(named name: String) -> IndexEntry? {
            var target = Array(name.utf8)
            let found: Int? = plain.withUnsafeBufferPointer { p in
                target.withUnsafeMutableBufferPointer { t in
                    var low = 0, high = count - 1
                    while low <= high {
                        let middle = (low + high) / 2
                        let start = entryStarts[middle]
                        let length = Int(p[start]) | Int(p[start + 1]) << 8
                        var order = t.isEmpty ? 0 : Int(memcmp(p.baseAddress! + start + 2, t.baseAddress!, min(length, t.count)))
                        if order == 0 { order = length - t.count }
                        if order == 0 { return middle }
                        if order < 0 { low = middle + 1 } else { high = middle - 1 }
                    }
                    return nil
                }
            }
            return found.map(entry(at:))
        }

        /// Every entry, in name order. Names are checked to be UTF-8 here, where they are
        /// decoded, rather than when the index is read: decoding would replace bad bytes and
        /// the record would then fail to authenticate under its altered name (a malformed
        /// index, not an altered file). A lookup by name (`get`) compares bytes with a name
        /// that is valid UTF-8 already, and need not pay for checking ten thousand others.
        func entries() throws(Failure) -> [IndexEntry] {
            var result: [IndexEntry] = []
            result.reserveCapacity(count)
            for position in 0..<count {
                guard String(validating: nameBytes(at: position), as: UTF8.self) != nil else {
                    throw Failure("the index is malformed: a record name is not UTF-8")
                }
                result.append(entry(at: position))
            }
            return result
        }
    }

    /// Encrypts `records` (name → plaintext) into a complete file, with fresh nonces throughout.
    public static func seal(
        records: [(name: String, plaintext: [UInt8])],
        protection: Protection,
        keyEncryptionKey: SecureBytes,
        dataKey: SecureBytes
    ) -> [UInt8] {
        // Byte order of the UTF-8 names, which is what readers check.
        let sorted = records.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
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
        // Record nonces are this fresh random prefix and the record's position: unique within
        // the file, and across writes as unlikely to repeat as any random 128 bits.
        let prefix = Sodium.randomBytes(recordNoncePrefixSize)
        index += prefix
        let nonces = sorted.indices.map { position in
            var nonce = prefix
            appendUInt64(&nonce, UInt64(position))
            return nonce
        }
        for record in sorted {
            let name = Array(record.name.utf8)
            precondition(name.count <= maxNameLength, "record name too long")
            appendUInt16(&index, UInt16(name.count))
            index += name
            appendUInt32(&index, UInt32(record.plaintext.count + Sodium.tagBytes))
        }
        appendUInt32(&header, UInt32(index.count + Sodium.tagBytes))
        precondition(header.count == headerSize)

        var file = header
        file += Sodium.seal(index, additionalData: header, nonce: indexNonce, key: dataKey)
        for (record, nonce) in zip(sorted, nonces) {
            file += RecordSeal.seal(record.plaintext, context: header, name: record.name, nonce: nonce, key: dataKey)
        }
        return file
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
