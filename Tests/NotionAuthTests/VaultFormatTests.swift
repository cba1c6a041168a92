import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

@Suite struct VaultFormatTests {
    static let key = SecureBytes(copying: (0..<32).map { UInt8($0) })

    static func sealed(_ records: [(String, String)], dataKey: SecureBytes = .random(count: 32)) -> [UInt8] {
        VaultFormat.seal(records: records.map { ($0.0, Array($0.1.utf8)) }, protection: .key, keyEncryptionKey: key, dataKey: dataKey)
    }

    static func openBytes(_ bytes: [UInt8], key: SecureBytes = key) throws -> [String: [UInt8]] {
        let sealed = try VaultFormat.Sealed(bytes: bytes)
        guard let dataKey = sealed.unwrapDataKey(with: key) else { throw VaultFormat.Failure("wrong key") }
        var result: [String: [UInt8]] = [:]
        let index = try sealed.openIndex(dataKey: dataKey)
        for entry in try index.entries() {
            result[entry.name] = try sealed.openRecord(entry, in: index, dataKey: dataKey)
        }
        return result
    }

    static func open(_ bytes: [UInt8], key: SecureBytes = key) throws -> [String: String] {
        try openBytes(bytes, key: key).mapValues { String(decoding: $0, as: UTF8.self) }
    }

    @Test func sealedRecordsOpenToTheSameNamesAndValues() throws {
        let file = Self.sealed([("b", "two"), ("a", "one"), ("empty", "")])
        #expect(try Self.open(file) == ["a": "one", "b": "two", "empty": ""])
    }

    @Test func everyWriteUsesFreshNonces() {
        let dataKey = SecureBytes.random(count: 32)
        let first = Self.sealed([("a", "one")], dataKey: dataKey)
        let second = Self.sealed([("a", "one")], dataKey: dataKey)
        #expect(first.count == second.count)
        #expect(first != second)
        #expect(first[40..<64] != second[40..<64])
        #expect(first[112..<136] != second[112..<136])
    }

    @Test func headerLayoutMatchesTheSpecification() {
        let file = Self.sealed([("a", "one")])
        #expect(Array(file[0..<8]) == Array("NAUTHVLT".utf8))
        #expect(file[8] == 1 && file[9] == 0)
        #expect(file[10] == 1)
        #expect(file[11..<40].allSatisfy { $0 == 0 })
    }

    @Test func everyFlippedByteIsDetected() throws {
        let file = Self.sealed([("connection/notion/default", #"{"access_token":"ntn_x"}"#), ("client/notion", "{}")])
        for offset in file.indices {
            var tampered = file
            tampered[offset] ^= 0x01
            #expect(throws: (any Error).self, "flip at \(offset) went unnoticed") { try Self.open(tampered) }
        }
    }

    @Test func everyTruncationAndAppendIsDetected() throws {
        let file = Self.sealed([("a", "one"), ("b", "two")])
        for length in 0..<file.count {
            #expect(throws: (any Error).self) { try Self.open(Array(file.prefix(length))) }
        }
        #expect(throws: (any Error).self) { try Self.open(file + [0]) }
    }

    @Test func wrongKeyIsDetected() {
        let file = Self.sealed([("a", "one")])
        #expect(throws: (any Error).self) { try Self.open(file, key: .random(count: 32)) }
    }

    @Test func futureVersionIsRefusedWithAnUpgradeHint() {
        var file = Self.sealed([("a", "one")])
        file[8] = 2
        #expect {
            try Self.open(file)
        } throws: { error in
            (error as? VaultFormat.Failure)?.reason.contains("upgrade notionauth") == true
        }
    }

    @Test func kdfLimitsAboveTheCapsAreRefusedBeforeDerivation() {
        let kdf = VaultFormat.KDFParameters(opsLimit: 2, memLimit: 2 << 30, salt: Array(repeating: 7, count: 16))
        let file = VaultFormat.seal(records: [], protection: .passphrase(kdf), keyEncryptionKey: Self.key, dataKey: .random(count: 32))
        #expect {
            _ = try VaultFormat.Sealed(bytes: file)
        } throws: { error in
            (error as? VaultFormat.Failure)?.reason.contains("KDF limits out of bounds") == true
        }
    }

    @Test func failuresCarryTheClassThePageNames() {
        var future = Self.sealed([("a", "one")])
        future[8] = 2
        #expect(Self.failureKind { _ = try Self.open(future) } == .unsupportedVersion)
        #expect(Self.failureKind { _ = try Self.open(Array(future.prefix(10))) } == .format)
        var altered = Self.sealed([("a", "one")])
        altered[altered.count - 1] ^= 1
        #expect(Self.failureKind { _ = try Self.open(altered) } == .altered)
    }

    static func failureKind(_ body: () throws -> Void) -> VaultFormat.FailureClass? {
        do {
            try body()
            return nil
        } catch {
            return (error as? VaultFormat.Failure)?.kind
        }
    }

    /// Before the check, the name decoded with replacement characters and its record then
    /// failed to authenticate, which was reported as an altered file.
    @Test func anIndexNameThatIsNotUTF8IsMalformedNotAltered() throws {
        var file = NegativeVectors.File("unit")
        file.records = [(Array("connection/caf".utf8) + [0xc3], .sealed(NegativeVectors.connection()))]
        let bytes = file.bytes
        #expect {
            _ = try Self.open(bytes, key: NegativeVectors.key)
        } throws: { error in
            let failure = error as? VaultFormat.Failure
            return failure?.kind == .format && failure?.reason.contains("not UTF-8") == true
        }
        file.records = [(Array("connection/café".utf8), .sealed(NegativeVectors.connection()))]
        #expect(try Self.open(file.bytes, key: NegativeVectors.key).keys.sorted() == ["connection/café"])
    }

    @Test func indexNamesMustBeStrictlyAscendingInByteOrder() throws {
        var file = NegativeVectors.File("order")
        file.records = [(Array("b".utf8), .sealed([])), (Array("ba".utf8), .sealed([])), (Array("c".utf8), .sealed([]))]
        #expect(try Self.open(file.bytes, key: NegativeVectors.key).count == 3)
        for names in [["ba", "b"], ["b", "b"], ["c", "b"], ["\u{e9}", "z"]] {
            file.records = names.map { (Array($0.utf8), .sealed([])) }
            #expect(Self.failureKind { _ = try Self.open(file.bytes, key: NegativeVectors.key) } == .format, "\(names)")
        }
    }

    @Test func keysArePaddedStandardBase64WithWhiteSpaceIgnoredAnywhere() {
        let text = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
        let key = (0..<32).map { UInt8($0) }
        func decoded(_ text: [UInt8]) -> [UInt8]? {
            Sodium.base64DecodeKey(text, count: 32)?.withUnsafeBytes { Array($0) }
        }
        for accepted in [text, text + "\n", text + "\r\n", " \t" + text, "AAEC AwQF\tBgcI\r\nCQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 =\n \n"] {
            #expect(decoded(Array(accepted.utf8)) == key, "\(accepted.debugDescription)")
        }
        let refused = [
            String(text.dropLast()), text + "=", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",
            text.replacingOccurrences(of: "A", with: "-"), "", " ", " \t\r\n", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",
        ]
        for text in refused {
            #expect(decoded(Array(text.utf8)) == nil, "\(text.debugDescription)")
        }
        var withNUL = Array(text.utf8)
        withNUL.insert(0, at: 4)
        #expect(decoded(withNUL) == nil, "libsodium would skip the NUL byte")
    }

    /// The text form of integer fields in records, as notionauth-vault(5) defines it.
    @Test func integerFieldsAreASignAndDecimalDigitsOnly() {
        func obtainedAt(_ text: String) -> Int64? {
            var record = FieldRecord()
            for (name, value) in [("provider", "notion"), ("name", "default"), ("kind", "token"), ("status", "connected"),
                                  ("access_token", "ntn_x"), ("obtained_at", text), ("expires_at", text)] {
                record[name] = value
            }
            guard let connection = Connection(fields: record) else { return nil }
            #expect(connection.expiresAt == connection.obtainedAt)
            return connection.obtainedAt
        }
        #expect(obtainedAt("1795305228") == 1_795_305_228)
        #expect(obtainedAt("+1795305228") == 1_795_305_228)
        #expect(obtainedAt("0001795305228") == 1_795_305_228)
        #expect(obtainedAt("-1") == -1)
        #expect(obtainedAt("9223372036854775807") == Int64.max)
        #expect(obtainedAt("-9223372036854775808") == Int64.min)
        for refused in ["", "+", "-", " 1", "1 ", "1.0", "1e9", "1_000", "0x10", "9223372036854775808", "\u{661}"] {
            #expect(obtainedAt(refused) == nil, "\(refused.debugDescription)")
        }
    }

    /// Checked-in files written by notionauth 0.1.0: an upgrade must keep reading them.
    @Test func decodesCheckedInTestVectors() throws {
        let directory = Binary.repositoryRoot + "/Tests/NotionAuthTests/Vectors"
        let expected = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/expected.json"))))

        let keyText = try String(contentsOfFile: directory + "/key-vault.key", encoding: .utf8)
        let key = try #require(Sodium.base64DecodeKey(Array(keyText.utf8), count: 32))
        let keyVault = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/key-vault")))
        let keyRecords = try Self.openBytes(keyVault, key: key)
        #expect(keyRecords.keys.sorted() == ["connection/notion/default", "connection/notion/work"])
        let record = try #require(FieldRecord(bytes: keyRecords["connection/notion/work"]!))
        #expect(record["access_token"] == expected["work_access_token"]?.stringValue)
        #expect(record["name"] == "work")
        #expect(record["provider"] == "notion")

        let passphraseVault = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/passphrase-vault")))
        let sealed = try VaultFormat.Sealed(bytes: passphraseVault)
        guard case let .passphrase(kdf) = sealed.protection else { Issue.record("not a passphrase vault"); return }
        let passphrase = SecureBytes(copying: Array(try #require(expected["passphrase"]?.stringValue).utf8))
        let derived = try #require(Sodium.deriveKey(passphrase: passphrase, salt: kdf.salt, opsLimit: UInt64(kdf.opsLimit), memLimit: kdf.memLimit))
        let records = try Self.openBytes(passphraseVault, key: derived)
        let defaultRecord = try #require(records["connection/notion/default"])
        let connection = try #require(FieldRecord(bytes: defaultRecord))
        #expect(connection["access_token"] == expected["default_access_token"]?.stringValue)
    }
}
