import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// Vault files a reader must refuse, each with the failure class notionauth-vault(5) names
/// (section FAILURES), in the manner of age's test kit. The files are checked in under
/// Vectors/negative with manifest.json; `NegativeVectors` writes them again when the tests run
/// with NOTIONAUTH_WRITE_VECTORS=1, and otherwise checks that they are what it would write.
@Suite struct VaultFormatNegativeVectorTests {
    static let directory = Binary.repositoryRoot + "/Tests/NotionAuthTests/Vectors/negative"

    struct ManifestEntry {
        var file: String
        var keyFile: String?
        var environmentKey: String?
        var passphrase: String?
        var expect: VaultFormat.FailureClass
    }

    static func manifest() throws -> [ManifestEntry] {
        let json = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/manifest.json"))))
        guard case let .array(vectors)? = json["vectors"] else { throw NotionauthError.failure("manifest.json has no vectors") }
        return try vectors.map { vector in
            guard let file = vector["file"]?.stringValue,
                  let expect = vector["expect"]?.stringValue.flatMap(VaultFormat.FailureClass.init(rawValue:))
            else { throw NotionauthError.failure("manifest entry without file or a known expect: \(vector.encoded())") }
            return ManifestEntry(
                file: file, keyFile: vector["key_file"]?.stringValue,
                environmentKey: vector["environment_key"]?.stringValue, passphrase: vector["passphrase"]?.stringValue,
                expect: expect)
        }
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
    }

    /// A decoder that follows the steps of DECODING in notionauth-vault(5) and reads
    /// everything, as `notionauth vault verify` does; nil when the file opens.
    static func failureClass(of file: [UInt8], entry: ManifestEntry) throws -> VaultFormat.FailureClass? {
        do {
            let sealed = try VaultFormat.Sealed(bytes: file)
            let keyEncryptionKey: SecureBytes
            switch sealed.protection {
            case .key:
                let text: [UInt8]
                if let environmentKey = entry.environmentKey {
                    text = Array(environmentKey.utf8)
                } else {
                    text = try bytes(try #require(entry.keyFile))
                }
                guard let key = Sodium.base64DecodeKey(text, count: Sodium.keyBytes) else { return .keyEncoding }
                keyEncryptionKey = key
            case let .passphrase(kdf):
                let passphrase = SecureBytes(copying: Array(try #require(entry.passphrase).utf8))
                keyEncryptionKey = try #require(Sodium.deriveKey(passphrase: passphrase, salt: kdf.salt, opsLimit: UInt64(kdf.opsLimit), memLimit: kdf.memLimit))
            }
            guard let dataKey = sealed.unwrapDataKey(with: keyEncryptionKey) else { return .wrongKeyOrAltered }
            let index = try sealed.openIndex(dataKey: dataKey)
            for entry in try index.entries() {
                let plain = try sealed.openRecord(entry, in: index, dataKey: dataKey)
                if entry.name.hasPrefix("connection/"), FieldRecord(bytes: plain).flatMap(Connection.init(fields:)) == nil {
                    return .recordFormat
                }
            }
            return nil
        } catch let failure as VaultFormat.Failure {
            return failure.kind
        }
    }

    /// The class of a `notionauth` error message about the vault, by the phrases its reasons use.
    static func failureClass(ofMessage message: String) -> Set<VaultFormat.FailureClass> {
        let phrases: [(VaultFormat.FailureClass, [String])] = [
            (.format, ["the file is empty", "the file is truncated", "not a notionauth vault", "unknown protection",
                       "carries KDF parameters", "unknown KDF algorithm", "index length is wrong", "the index is malformed",
                       "trailing bytes"]),
            (.unsupportedVersion, ["is not supported by this notionauth"]),
            (.kdfLimits, ["KDF limits out of bounds"]),
            (.keyEncoding, ["is not base64 of 32 bytes", "does not hold base64 of 32 bytes"]),
            (.wrongKeyOrAltered, ["does not open it (wrong"]),
            (.altered, ["does not authenticate (the file was altered)"]),
            (.recordFormat, ["is not in the expected format"]),
        ]
        return Set(phrases.filter { $0.1.contains { message.contains($0) } }.map(\.0))
    }

    @Test func theCheckedInFilesAreWhatTheGeneratorWrites() throws {
        let generated = NegativeVectors.files()
        if ProcessInfo.processInfo.environment["NOTIONAUTH_WRITE_VECTORS"] == "1" {
            try FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true)
            for (name, bytes) in generated {
                try Data(bytes).write(to: URL(fileURLWithPath: Self.directory + "/" + name))
            }
        }
        let present = try FileManager.default.contentsOfDirectory(atPath: Self.directory).filter { $0 != "README.md" }
        #expect(present.sorted() == generated.map(\.name).sorted())
        for (name, bytes) in generated {
            #expect(try Self.bytes(name) == bytes, "\(name) differs from what NegativeVectors writes; regenerate with NOTIONAUTH_WRITE_VECTORS=1")
        }
    }

    @Test func everyClassHasAVector() throws {
        let covered = Set(try Self.manifest().map(\.expect))
        #expect(covered == Set(VaultFormat.FailureClass.allCases))
    }

    @Test func everyVectorFailsWithItsClassInADecoderThatFollowsThePage() throws {
        let entries = try Self.manifest()
        #expect(entries.count >= 30)
        for entry in entries {
            let found = try Self.failureClass(of: try Self.bytes(entry.file), entry: entry)
            #expect(found == entry.expect, "\(entry.file): \(found?.rawValue ?? "opened")")
        }
    }

    /// Each vector differs from a file that opens in one respect; the two base files, which
    /// the wrong-key, wrong-passphrase and key-encoding vectors read, open with the right key.
    @Test func theBaseFilesOfTheVectorsOpenWithTheRightKeyAndPassphrase() throws {
        let key = ManifestEntry(file: "valid", keyFile: "key", expect: .format)
        #expect(try Self.failureClass(of: try Self.bytes("valid"), entry: key) == nil)
        let passphrase = ManifestEntry(file: "wrong-passphrase", passphrase: NegativeVectors.passphrase, expect: .format)
        #expect(try Self.failureClass(of: try Self.bytes("wrong-passphrase"), entry: passphrase) == nil)
    }

    @Test func notionauthRefusesEveryVectorWithItsClass() async throws {
        for entry in try Self.manifest() {
            let sandbox = try Sandbox()
            try FileManager.default.createDirectory(atPath: sandbox.config, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try Data(try Self.bytes(entry.file)).write(to: URL(fileURLWithPath: sandbox.vaultPath))
            // A good key file beside the vault unless the vector names another: a
            // NOTIONAUTH_VAULT_KEY that does not decode must not fall back to it.
            try Data(try Self.bytes(entry.keyFile ?? "key")).write(to: URL(fileURLWithPath: sandbox.keyPath))
            chmod(sandbox.keyPath, 0o600)
            var environment: [String: String] = [:]
            environment["NOTIONAUTH_VAULT_KEY"] = entry.environmentKey
            environment["NOTIONAUTH_PASSPHRASE"] = entry.passphrase
            let result = await sandbox.runInProcess(["vault", "verify"], environment: environment)
            #expect(result.status == 5, "\(entry.file): \(result.stderr)")
            #expect(Self.failureClass(ofMessage: result.stderr) == [entry.expect], "\(entry.file): \(result.stderr)")
        }
    }
}

/// The deterministic generator of Vectors/negative: every random value comes from SHA-256
/// of a label, and every file is assembled here from the layout in notionauth-vault(5), not
/// by `VaultFormat.seal`, so that it can be wrong in exactly one way.
enum NegativeVectors {
    static let passphrase = "correct horse battery staple"
    /// Its standard base64 has both '+' and '/', so that URL-safe text differs from it.
    static let key = SecureBytes(copying: (0..<32).map { [0xfb, 0xff, 0xbf][$0 % 3] as UInt8 })
    static let otherKey = SecureBytes(copying: [UInt8](repeating: 0x42, count: 32))
    static let dataKey = SecureBytes(copying: random("data key", 32))

    static func random(_ label: String, _ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var block = 0
        while out.count < count {
            out += Sodium.sha256(Array("notionauth negative vector \(label) \(block)".utf8))
            block += 1
        }
        return Array(out.prefix(count))
    }

    static func fields(_ pairs: [(String, String)]) -> [UInt8] {
        var record = FieldRecord()
        for (name, value) in pairs { record[name] = value }
        return record.bytes
    }

    static func connection(obtainedAt: String = "1795305228") -> [UInt8] {
        fields([("provider", "notion"), ("name", "default"), ("kind", "token"), ("status", "connected"),
                ("access_token", "ntn_negative_vector_token_0000000000000001"), ("obtained_at", obtainedAt)])
    }

    static let client = fields([("provider", "notion"), ("client_id", "negative-vector-client")])

    enum Record {
        /// Encrypted as the page says.
        case sealed([UInt8])
        /// Raw bytes in the record's place, whose length the index gives as it is.
        case raw([UInt8])
    }

    /// One file, built from its parts; the defaults give a valid key-protected vault.
    struct File {
        var label: String
        var protection: UInt8 = 1
        var kdf: UInt8 = 0
        var opsLimit: UInt32 = 0
        var memLimit: UInt64 = 0
        var salt = [UInt8](repeating: 0, count: 16)
        var keyEncryptionKey = NegativeVectors.key
        var records: [(name: [UInt8], record: Record)] = [
            (Array("client/notion".utf8), .sealed(NegativeVectors.client)),
            (Array("connection/notion/default".utf8), .sealed(NegativeVectors.connection())),
        ]
        /// Bytes after the last index entry.
        var indexTrailer: [UInt8] = []
        var countAdjustment = 0

        init(_ label: String) { self.label = label }

        var bytes: [UInt8] {
            let prefix = random("\(label) record nonce prefix", 16)
            let ciphertextLengths = records.map { record in
                switch record.record {
                case let .sealed(plain): plain.count + Sodium.tagBytes
                case let .raw(bytes): bytes.count
                }
            }
            var index: [UInt8] = []
            appendUInt32(&index, UInt32(records.count + countAdjustment))
            index += prefix
            for (record, length) in zip(records, ciphertextLengths) {
                appendUInt16(&index, UInt16(record.name.count))
                index += record.name
                appendUInt32(&index, UInt32(length))
            }
            index += indexTrailer

            var header = VaultFormat.magic
            appendUInt16(&header, 1)
            header += [protection, kdf]
            appendUInt32(&header, opsLimit)
            appendUInt64(&header, memLimit)
            header += salt
            let keyNonce = random("\(label) key nonce", Sodium.nonceBytes)
            header += keyNonce
            header += dataKey.withUnsafeBytes { Sodium.seal($0, additionalData: header, nonce: keyNonce, key: keyEncryptionKey) }
            let indexNonce = random("\(label) index nonce", Sodium.nonceBytes)
            header += indexNonce
            appendUInt32(&header, UInt32(index.count + Sodium.tagBytes))

            var file = header + Sodium.seal(index, additionalData: header, nonce: indexNonce, key: dataKey)
            for (position, record) in records.enumerated() {
                switch record.record {
                case let .sealed(plain):
                    var nonce = prefix
                    appendUInt64(&nonce, UInt64(position))
                    file += Sodium.seal(plain, additionalData: header + record.name, nonce: nonce, key: dataKey)
                case let .raw(bytes):
                    file += bytes
                }
            }
            return file
        }
    }

    struct Vector {
        var name: String
        var bytes: [UInt8]
        var expect: VaultFormat.FailureClass
        var description: String
        /// A key file in Vectors/negative, NOTIONAUTH_VAULT_KEY's value, or the passphrase.
        var keyFile: String? = "key"
        var environmentKey: String?
        var passphrase: String?
    }

    static func encoded(_ key: SecureBytes) -> String { key.withUnsafeBytes { Sodium.base64Encode($0) } }

    static func flipped(_ file: [UInt8], at offset: Int) -> [UInt8] {
        var file = file
        file[offset] ^= 0x01
        return file
    }

    static func patched(_ file: [UInt8], at offset: Int, _ bytes: [UInt8]) -> [UInt8] {
        var file = file
        file.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        return file
    }

    static func le32(_ value: UInt32) -> [UInt8] {
        var out: [UInt8] = []
        appendUInt32(&out, value)
        return out
    }

    static func passphraseFile(_ label: String, opsLimit: UInt32 = 1, memLimit: UInt64 = 8192) -> File {
        var file = File(label)
        file.protection = 2
        file.kdf = Sodium.argon2id13
        file.opsLimit = opsLimit
        file.memLimit = memLimit
        file.salt = random("\(label) salt", Sodium.saltBytes)
        // Only vectors within the caps can be derived; the others are refused before that.
        if opsLimit <= VaultFormat.maxOpsLimit, memLimit <= VaultFormat.maxMemLimit, opsLimit >= 1, memLimit >= 8192 {
            file.keyEncryptionKey = Sodium.deriveKey(
                passphrase: SecureBytes(copying: Array(passphrase.utf8)), salt: file.salt,
                opsLimit: UInt64(opsLimit), memLimit: memLimit)!
        }
        return file
    }

    static func vectors() -> [Vector] {
        let valid = File("valid").bytes
        // Offsets in `valid`: header 0..140, index 140..(140 + index_length), then the records.
        let indexLength = Int(readUInt32(valid, at: 136))
        let recordsStart = VaultFormat.headerSize + indexLength
        var vectors: [Vector] = []
        func add(_ name: String, _ bytes: [UInt8], _ expect: VaultFormat.FailureClass, _ description: String) {
            var vector = Vector(name: name, bytes: bytes, expect: expect, description: description)
            if bytes.count > 10, bytes[10] == 2 {
                vector.keyFile = nil
                vector.passphrase = passphrase
            }
            vectors.append(vector)
        }

        add("empty", [], .format, "a file of 0 bytes")
        add("truncated-header", Array(valid.prefix(139)), .format, "the first 139 bytes of a valid file")
        add("bad-magic", patched(valid, at: 7, Array("X".utf8)), .format, "magic NAUTHVLX")
        add("version-0", patched(valid, at: 8, [0, 0]), .unsupportedVersion, "version 0")
        add("version-2", patched(valid, at: 8, [2, 0]), .unsupportedVersion, "version 2")
        add("version-256", patched(valid, at: 8, [0, 1]), .unsupportedVersion, "version 256: the version is little-endian")
        add("protection-0", patched(valid, at: 10, [0]), .format, "protection byte 0")
        add("protection-3", patched(valid, at: 10, [3]), .format, "protection byte 3")
        add("key-protection-with-kdf-byte", patched(valid, at: 11, [2]), .format, "protection 1 with kdf byte 2")
        add("key-protection-with-salt", patched(valid, at: 39, [1]), .format, "protection 1 with a salt byte not zero")

        var unknownKDF = passphraseFile("unknown-kdf")
        unknownKDF.kdf = 1
        add("unknown-kdf", unknownKDF.bytes, .format, "protection 2 with kdf byte 1 (Argon2i)")
        add("kdf-opslimit-0", passphraseFile("kdf-opslimit-0", opsLimit: 0).bytes, .kdfLimits, "opslimit 0")
        add("kdf-opslimit-17", passphraseFile("kdf-opslimit-17", opsLimit: 17).bytes, .kdfLimits, "opslimit 17, above the cap of 16")
        add("kdf-memlimit-8191", passphraseFile("kdf-memlimit-8191", memLimit: 8191).bytes, .kdfLimits, "memlimit 8191, below 8192")
        add("kdf-memlimit-over-1gib", passphraseFile("kdf-memlimit-over-1gib", memLimit: (1 << 30) + 1024).bytes, .kdfLimits,
            "memlimit 1 GiB + 1 KiB, above the cap")
        add("kdf-memlimit-huge", passphraseFile("kdf-memlimit-huge", memLimit: UInt64.max).bytes, .kdfLimits, "memlimit 2^64 - 1")

        add("index-length-35", patched(valid, at: 136, le32(35)), .format, "index_length 35, less than 36")
        add("index-length-past-end", patched(valid, at: 136, le32(UInt32(valid.count))), .format,
            "index_length reaching beyond the end of the file")
        add("truncated-last-record", Array(valid.dropLast()), .format, "a valid file without its last byte")
        add("trailing-byte", valid + [0], .format, "a valid file with one byte appended")

        add("flipped-magic", flipped(valid, at: 0), .format, "bit 0 of byte 0 flipped")
        add("flipped-key-nonce", flipped(valid, at: 40), .wrongKeyOrAltered, "bit 0 of byte 40 (key_nonce) flipped")
        add("flipped-wrapped-key", flipped(valid, at: 64), .wrongKeyOrAltered, "bit 0 of byte 64 (wrapped_key) flipped")
        add("flipped-index-nonce", flipped(valid, at: 112), .altered, "bit 0 of byte 112 (index_nonce) flipped")
        add("flipped-index-length", flipped(valid, at: 136), .altered,
            "bit 0 of byte 136 (index_length) flipped: one off, still within bounds")
        add("flipped-index", flipped(valid, at: 140), .altered, "bit 0 of byte 140 (the index) flipped")
        add("flipped-index-tag", flipped(valid, at: recordsStart - 1), .altered, "bit 0 of the last byte of the index tag flipped")
        add("flipped-first-record", flipped(valid, at: recordsStart), .altered, "bit 0 of the first byte of record 0 flipped")
        add("flipped-last-record", flipped(valid, at: valid.count - 1), .altered, "bit 0 of the last byte of the file flipped")

        var swapped = File("names-out-of-order")
        swapped.records.swapAt(0, 1)
        add("names-out-of-order", swapped.bytes, .format,
            "connection/notion/default before client/notion; every part authenticates")
        var duplicate = File("duplicate-names")
        duplicate.records.insert((Array("client/notion".utf8), .sealed(client)), at: 0)
        add("duplicate-names", duplicate.bytes, .format, "client/notion twice; every part authenticates")
        var notUTF8 = File("name-not-utf8")
        notUTF8.records.append((Array("connection/notion/".utf8) + [0xff], .sealed(connection())))
        add("name-not-utf8", notUTF8.bytes, .format,
            "a third record named connection/notion/ and the byte 0xff, sealed with those bytes; every part authenticates")
        var endsEarly = File("index-ends-early")
        endsEarly.countAdjustment = 1
        add("index-ends-early", endsEarly.bytes, .format, "count 3 with 2 entries; the index authenticates")
        var trailer = File("index-trailing-bytes")
        trailer.indexTrailer = [0]
        add("index-trailing-bytes", trailer.bytes, .format, "a zero byte after the last entry; the index authenticates")
        var shortRecord = File("record-shorter-than-tag")
        shortRecord.records[1].record = .raw(random("short record", 15))
        add("record-shorter-than-tag", shortRecord.bytes, .format, "a record length of 15; the index authenticates")

        var notFields = File("record-not-a-field-list")
        notFields.records[1].record = .sealed(Array("access_token=ntn_x".utf8))
        add("record-not-a-field-list", notFields.bytes, .recordFormat, "connection/notion/default holds text, not a field list")
        var badTime = File("obtained-at-not-an-integer")
        badTime.records[1].record = .sealed(connection(obtainedAt: "1795305228.0"))
        add("obtained-at-not-an-integer", badTime.bytes, .recordFormat, "obtained_at is 1795305228.0")
        var spacedTime = File("obtained-at-with-space")
        spacedTime.records[1].record = .sealed(connection(obtainedAt: " 1795305228"))
        add("obtained-at-with-space", spacedTime.bytes, .recordFormat, "obtained_at is a space and 1795305228")

        var wrongKey = Vector(name: "valid", bytes: valid, expect: .wrongKeyOrAltered, description: "a valid file read with another key")
        wrongKey.keyFile = "other.key"
        vectors.append(wrongKey)
        var wrongPassphrase = Vector(name: "wrong-passphrase", bytes: passphraseFile("wrong-passphrase").bytes, expect: .wrongKeyOrAltered,
                                     description: "a valid passphrase file (opslimit 1, memlimit 8192) read with another passphrase")
        wrongPassphrase.keyFile = nil
        wrongPassphrase.passphrase = "correct horse battery stapler"
        vectors.append(wrongPassphrase)

        for keyFile in keyFiles() where keyFile.name != "key" && keyFile.name != "other.key" {
            var vector = Vector(name: "valid", bytes: valid, expect: .keyEncoding, description: "a valid file read with " + keyFile.description)
            vector.keyFile = keyFile.name
            vectors.append(vector)
        }
        for (value, description) in [(" ", "NOTIONAUTH_VAULT_KEY of one space; the good key file beside it is not used"),
                                     (" \t\n", "NOTIONAUTH_VAULT_KEY of white space only")] {
            var vector = Vector(name: "valid", bytes: valid, expect: .keyEncoding, description: description)
            vector.keyFile = nil
            vector.environmentKey = value
            vectors.append(vector)
        }
        return vectors
    }

    /// Key files: the good one, another key, and encodings of the good key that are refused.
    static func keyFiles() -> [(name: String, bytes: [UInt8], description: String)] {
        let text = encoded(key)
        let body = String(text.dropLast())  // without its one '='
        var noncanonical = Array(body.utf8)
        // The last character carries 2 spare bits, which must be zero: '8' is 111100, '/' 111111.
        noncanonical[noncanonical.count - 1] = UInt8(ascii: "/")
        var withNUL = Array(text.utf8)
        withNUL.insert(0, at: 20)
        let short = SecureBytes(copying: [UInt8](repeating: 0xfb, count: 31))
        return [
            ("key", Array((text + "\n").utf8), "the key"),
            ("other.key", Array((encoded(otherKey) + "\n").utf8), "another key"),
            ("unpadded.key", Array((body + "\n").utf8), "the key without its padding"),
            ("double-padding.key", Array((text + "=\n").utf8), "the key with a second '='"),
            ("url-safe.key", Array((text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_") + "\n").utf8),
             "the key in the URL-safe alphabet, padded"),
            ("url-safe-unpadded.key", Array((body.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_") + "\n").utf8),
             "the key in base64url without padding"),
            ("non-canonical.key", noncanonical + Array("=\n".utf8), "the key with spare bits set in its last character"),
            ("nul-byte.key", withNUL + [0x0a], "the key with a NUL byte inside"),
            ("short.key", Array((encoded(short) + "\n").utf8), "base64 of 31 bytes"),
            ("whitespace-only.key", Array(" \t\r\n".utf8), "white space only"),
            ("empty.key", [], "an empty file"),
        ]
    }

    /// Every file of Vectors/negative: the vaults, the key files and manifest.json.
    static func files() -> [(name: String, bytes: [UInt8])] {
        let vectors = vectors()
        var files: [(name: String, bytes: [UInt8])] = []
        for vector in vectors where !files.contains(where: { $0.name == vector.name }) {
            files.append((vector.name, vector.bytes))
        }
        files += keyFiles().map { ($0.name, $0.bytes) }
        var manifest = "{\n  \"comment\": \"notionauth vault format 1: files a reader must refuse, with the failure class of notionauth-vault(5), FAILURES. Generated by Tests/NotionAuthTests/VaultFormatNegativeVectorTests.swift.\",\n"
        manifest += "  \"vectors\": [\n"
        manifest += vectors.map { vector in
            var fields: [(String, String)] = [("file", vector.name)]
            if let keyFile = vector.keyFile { fields.append(("key_file", keyFile)) }
            if let environmentKey = vector.environmentKey { fields.append(("environment_key", environmentKey)) }
            if let passphrase = vector.passphrase { fields.append(("passphrase", passphrase)) }
            fields.append(("expect", vector.expect.rawValue))
            fields.append(("description", vector.description))
            return "    {" + fields.map { "\(JSONValue.string($0.0).encoded()): \(JSONValue.string($0.1).encoded())" }.joined(separator: ", ") + "}"
        }.joined(separator: ",\n")
        manifest += "\n  ]\n}\n"
        files.append(("manifest.json", Array(manifest.utf8)))
        return files
    }
}
