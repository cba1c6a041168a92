/// Where a vault passphrase comes from: NOTIONAUTH_PASSPHRASE, the file descriptor named by
/// NOTIONAUTH_PASSPHRASE_FD, or a no-echo prompt. Without any of them it fails at once
/// rather than wait for input that will never come (CI).
public enum PassphraseSource {
    public static func obtain(context: Context, vaultPath: String, confirm: Bool) throws(NotionauthError) -> SecureBytes {
        if let value = context.environment["NOTIONAUTH_PASSPHRASE"], !value.isEmpty {
            return SecureBytes(copying: Array(value.utf8))
        }
        if let fdText = context.environment["NOTIONAUTH_PASSPHRASE_FD"], !fdText.isEmpty {
            guard let fd = Int32(fdText), fd >= 0 else {
                throw .vault(path: vaultPath, reason: "NOTIONAUTH_PASSPHRASE_FD is not a file descriptor number")
            }
            var bytes = ProcessEnvironment.readAll(fileDescriptor: fd)
            defer { for i in bytes.indices { bytes[i] = 0 } }
            while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
            guard !bytes.isEmpty else { throw .vault(path: vaultPath, reason: "file descriptor \(fd) gave an empty passphrase") }
            return SecureBytes(copying: bytes)
        }
        guard context.mayPrompt, var first = context.promptSecret("Vault passphrase: ") else {
            throw .vault(path: vaultPath, reason: "it is protected by a passphrase and there is no terminal to ask for it; set NOTIONAUTH_PASSPHRASE or NOTIONAUTH_PASSPHRASE_FD")
        }
        defer { for i in first.indices { first[i] = 0 } }
        guard !first.isEmpty else { throw .vault(path: vaultPath, reason: "the passphrase is empty") }
        if confirm {
            var second = context.promptSecret("Repeat the passphrase: ") ?? []
            defer { for i in second.indices { second[i] = 0 } }
            guard SecureBytes(copying: first).constantTimeEquals(SecureBytes(copying: second)) else {
                throw .failure("the passphrases do not match; nothing was changed")
            }
        }
        return SecureBytes(copying: first)
    }
}
