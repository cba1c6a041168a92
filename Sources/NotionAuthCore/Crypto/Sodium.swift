import CSodium

/// The few libsodium primitives notionauth uses, with Swift types at the edges.
public enum Sodium {
    public static let keyBytes = Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
    public static let nonceBytes = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    public static let tagBytes = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)
    public static let saltBytes = Int(crypto_pwhash_SALTBYTES)
    public static let argon2id13 = UInt8(crypto_pwhash_ALG_ARGON2ID13)

    private static let initialized: Bool = sodium_init() >= 0

    /// `sodium_init` is idempotent and thread-safe; a failure means no usable CSPRNG.
    public static func ensureInitialized() {
        precondition(initialized, "libsodium could not be initialised")
    }

    public static func randomBytes(_ count: Int) -> [UInt8] {
        ensureInitialized()
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, count) }
        return bytes
    }

    /// XChaCha20-Poly1305 (IETF) encryption; returns ciphertext followed by the 16-byte tag.
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer, additionalData: [UInt8], nonce: [UInt8], key: SecureBytes
    ) -> [UInt8] {
        ensureInitialized()
        precondition(nonce.count == nonceBytes && key.count == keyBytes)
        var output = [UInt8](repeating: 0, count: plaintext.count + tagBytes)
        var outputLength: UInt64 = 0
        key.withUnsafeBytes { keyBuffer in
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                &output, &outputLength,
                plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                additionalData, UInt64(additionalData.count),
                nil, nonce, keyBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return output
    }

    public static func seal(_ plaintext: [UInt8], additionalData: [UInt8], nonce: [UInt8], key: SecureBytes) -> [UInt8] {
        plaintext.withUnsafeBytes { seal($0, additionalData: additionalData, nonce: nonce, key: key) }
    }

    /// Decrypts and authenticates; nil when the tag does not verify (wrong key or tampered data).
    public static func open(
        _ ciphertext: ArraySlice<UInt8>, additionalData: ArraySlice<UInt8>, nonce: ArraySlice<UInt8>, key: SecureBytes
    ) -> [UInt8]? {
        ensureInitialized()
        guard ciphertext.count >= tagBytes, nonce.count == nonceBytes, key.count == keyBytes else { return nil }
        var output = [UInt8](repeating: 0, count: ciphertext.count - tagBytes)
        var outputLength: UInt64 = 0
        let status = ciphertext.withUnsafeBufferPointer { c in
            additionalData.withUnsafeBufferPointer { ad in
                nonce.withUnsafeBufferPointer { n in
                    key.withUnsafeBytes { k in
                        crypto_aead_xchacha20poly1305_ietf_decrypt(
                            &output, &outputLength, nil,
                            c.baseAddress!, UInt64(c.count),
                            ad.baseAddress, UInt64(ad.count),
                            n.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
        }
        return status == 0 ? output : nil
    }

    /// Like `open`, but the plaintext is key material and goes straight into a guarded buffer.
    public static func openKey(
        _ ciphertext: ArraySlice<UInt8>, additionalData: ArraySlice<UInt8>, nonce: ArraySlice<UInt8>, key: SecureBytes
    ) -> SecureBytes? {
        guard ciphertext.count == keyBytes + tagBytes, nonce.count == nonceBytes else { return nil }
        var ok = false
        let result = SecureBytes(count: keyBytes) { out in
            ok = ciphertext.withUnsafeBufferPointer { c in
                additionalData.withUnsafeBufferPointer { ad in
                    nonce.withUnsafeBufferPointer { n in
                        key.withUnsafeBytes { k in
                            crypto_aead_xchacha20poly1305_ietf_decrypt(
                                out.baseAddress!.assumingMemoryBound(to: UInt8.self), nil, nil,
                                c.baseAddress!, UInt64(c.count),
                                ad.baseAddress, UInt64(ad.count),
                                n.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
                        }
                    }
                }
            }
        }
        return ok ? result : nil
    }

    /// Argon2id (`crypto_pwhash`): a 32-byte key from a passphrase.
    public static func deriveKey(
        passphrase: SecureBytes, salt: [UInt8], opsLimit: UInt64, memLimit: UInt64
    ) -> SecureBytes? {
        ensureInitialized()
        var ok = false
        let key = SecureBytes(count: keyBytes) { out in
            ok = passphrase.withUnsafeBytes { p in
                crypto_pwhash(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(keyBytes),
                    p.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(p.count),
                    salt, opsLimit, Int(memLimit), Int32(crypto_pwhash_ALG_ARGON2ID13)) == 0
            }
        }
        return ok ? key : nil
    }

    public static var interactiveOpsLimit: UInt64 { UInt64(crypto_pwhash_opslimit_interactive()) }
    public static var interactiveMemLimit: UInt64 { UInt64(crypto_pwhash_memlimit_interactive()) }

    /// Standard base64 with padding (RFC 4648 §4), as used in key files and NOTIONAUTH_VAULT_KEY,
    /// or with `urlSafe` base64url without padding (§5).
    public static func base64Encode(_ raw: UnsafeRawBufferPointer, urlSafe: Bool = false) -> String {
        ensureInitialized()
        do {
            let variant = Int32(urlSafe ? sodium_base64_VARIANT_URLSAFE_NO_PADDING : sodium_base64_VARIANT_ORIGINAL)
            let length = sodium_base64_encoded_len(raw.count, variant)
            var out = [CChar](repeating: 0, count: length)
            _ = sodium_bin2base64(&out, length, raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count, variant)
            return String(decoding: out.prefix(length - 1).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// Decodes padded standard base64 of exactly `count` bytes into a guarded buffer. Spaces,
    /// tabs, CR and LF are ignored wherever they are; libsodium refuses anything else that is
    /// not canonical (missing or extra padding, URL-safe characters, non-zero spare bits).
    public static func base64DecodeKey(_ text: [UInt8], count: Int) -> SecureBytes? {
        ensureInitialized()
        // libsodium looks characters up in the ignore list with strchr, which finds a NUL
        // byte (the list's terminator): without this check NUL bytes would be ignored too.
        guard !text.isEmpty, !text.contains(0) else { return nil }
        var ok = false
        let capacity = text.count
        let decoded = SecureBytes(count: capacity) { out in
            var length = 0
            let ignore = " \t\r\n"
            ok = text.withUnsafeBufferPointer { t in
                sodium_base642bin(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), capacity,
                    UnsafeRawPointer(t.baseAddress!).assumingMemoryBound(to: CChar.self), t.count,
                    ignore, &length, nil, Int32(sodium_base64_VARIANT_ORIGINAL)) == 0
            } && length == count
        }
        guard ok else { return nil }
        return decoded.withUnsafeBytes { SecureBytes(copying: $0.prefix(count)) }
    }

    /// SHA-256, for PKCE's S256 code challenge.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        ensureInitialized()
        var out = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        crypto_hash_sha256(&out, bytes, UInt64(bytes.count))
        return out
    }
}
