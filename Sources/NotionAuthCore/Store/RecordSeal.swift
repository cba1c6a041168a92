/// Seals one record (a connection or a client, as a field list) so that only the holder of
/// the data key can read it, and so that it opens only where it was written: XChaCha20-
/// Poly1305 with additional data `context || name`. The file vault's context is its
/// header (notionauth-vault(5)); a database store's would be its store id and namespace.
/// A record moved to another name, store or namespace, or edited, fails to open.
public enum RecordSeal {
    public static func seal(_ plaintext: [UInt8], context: [UInt8], name: String, nonce: [UInt8], key: SecureBytes) -> [UInt8] {
        Sodium.seal(plaintext, additionalData: context + Array(name.utf8), nonce: nonce, key: key)
    }

    /// The plaintext, or nil when the ciphertext, its context or its name was altered, or
    /// the key is another.
    public static func open(_ ciphertext: ArraySlice<UInt8>, context: [UInt8], name: String, nonce: ArraySlice<UInt8>, key: SecureBytes) -> [UInt8]? {
        Sodium.open(ciphertext, additionalData: ArraySlice(context + Array(name.utf8)), nonce: nonce, key: key)
    }
}
