// libFuzzer target: the vault reader turns any bytes into records or an error, never a
// crash. An input that starts with the magic bytes is read as a whole file, with the key of
// the checked-in vectors (scripts/fuzz seeds Tests/NotionAuthTests/Vectors/key-vault).
// Any other input is read as a record's plaintext (FieldRecord), and also as
// `u16 length, index plaintext, record bytes` sealed into a file that authenticates, so
// the index and record parsers see hostile bytes that a random mutation of a real file,
// rejected by its tags, never gets past.
import CLibFuzzer
import Foundation
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

enum Fixture {
    static let key = SecureBytes(copying: (0..<32).map { UInt8($0) })
    static let dataKey = SecureBytes(copying: (32..<64).map { UInt8($0) })
    /// A valid header whose data key is `dataKey`; its index length is patched per input.
    static let header = Array(VaultFormat.seal(records: [], protection: .key, keyEncryptionKey: key, dataKey: dataKey)
        .prefix(VaultFormat.headerSize))
}

/// Reads everything a vault file holds, the way `Vault` does.
func readVault(_ file: [UInt8]) {
    guard let sealed = try? VaultFormat.Sealed(bytes: file),
          let dataKey = sealed.unwrapDataKey(with: Fixture.key),
          let index = try? sealed.openIndex(dataKey: dataKey),
          let entries = try? index.entries()
    else { return }
    for entry in entries {
        _ = index.entry(named: entry.name)
        if let plain = try? sealed.openRecord(entry, in: index, dataKey: dataKey) {
            readFields(plain)
        }
    }
}

/// A record's plaintext parses or fails; what parses is written back byte for byte.
func readFields(_ bytes: [UInt8]) {
    guard let record = FieldRecord(bytes: bytes) else { return }
    if record.bytes != bytes { fatalError("FieldRecord does not write back what it read: \(bytes)") }
    _ = Connection(fields: record)
    _ = ClientCredentials(fields: record)
}

/// A file with `indexPlain` as its authenticated index and `records` after it, each record
/// the index lists then sealed in place so it authenticates too; nil when the index is not
/// one the reader accepts (that path is the reader's, and has just run).
func authenticatedVault(indexPlain: [UInt8], records: [UInt8]) -> [UInt8]? {
    var header = Fixture.header
    let indexLength = UInt32(indexPlain.count + Sodium.tagBytes)
    for i in 0..<4 { header[136 + i] = UInt8(truncatingIfNeeded: indexLength >> (8 * UInt32(i))) }
    var file = header
    file += Sodium.seal(indexPlain, additionalData: header, nonce: Array(header[112..<136]), key: Fixture.dataKey)
    file += records
    guard let sealed = try? VaultFormat.Sealed(bytes: file),
          let index = try? sealed.openIndex(dataKey: Fixture.dataKey),
          let entries = try? index.entries()
    else { return nil }
    for entry in entries {
        let plain = Array(file[entry.offset..<(entry.offset + entry.length - Sodium.tagBytes)])
        let record = Sodium.seal(plain, additionalData: header + Array(entry.name.utf8),
                                 nonce: index.recordNonce(position: entry.position), key: Fixture.dataKey)
        file.replaceSubrange(entry.offset..<(entry.offset + entry.length), with: record)
    }
    return file
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    if bytes.starts(with: VaultFormat.magic) {
        readVault(bytes)
        return 0
    }
    readFields(bytes)
    if bytes.count >= 2 {
        let length = Int(bytes[0]) | Int(bytes[1]) << 8
        let indexPlain = Array(bytes.dropFirst(2).prefix(length))
        if let file = authenticatedVault(indexPlain: indexPlain, records: Array(bytes.dropFirst(2 + indexPlain.count))) {
            readVault(file)
        }
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(UnsafeRawPointer(data!), size) })
