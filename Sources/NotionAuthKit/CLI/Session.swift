/// What one command runs with: the context, the global options, and the files they point at.
public struct Session: Sendable {
    public let context: Context
    public let global: GlobalOptions
    public let paths: Paths
    public let vault: Vault
    public let providers: ProviderRegistry

    public init(context: Context, global: GlobalOptions) {
        self.context = context
        self.global = global
        paths = Paths(environment: context.environment, vaultOption: global.vault)
        providers = ProviderRegistry(overridesDirectory: paths.providersDirectory)
        let environment = context.environment
        let vaultPath = paths.vault
        vault = Vault(
            path: paths.vault,
            keys: VaultKeys(
                environmentKey: environment["NOTIONAUTH_VAULT_KEY"].flatMap { $0.isEmpty ? nil : $0 },
                passphrase: { (confirm: Bool) throws(NotionauthError) -> SecureBytes in
                    try PassphraseSource.obtain(context: context, vaultPath: vaultPath, confirm: confirm)
                }))
    }

    public var now: Int64 { context.now() }

    /// Resolves a provider and reports any unknown-key warnings from its file.
    public func provider(_ name: String) throws(NotionauthError) -> ResolvedProvider {
        let resolved = try providers.resolve(name: name)
        for warning in resolved.warnings { warn(warning) }
        return resolved
    }

    /// Data for scripts: stdout only.
    public func output(_ text: String) {
        context.stdout.write(text)
    }

    /// Progress and confirmations for people: stderr, silenced by --quiet.
    public func info(_ text: String) {
        if !global.quiet { context.stderr.write(TerminalText.sanitize(text, keepingNewlines: true) + "\n") }
    }

    public func warn(_ text: String) {
        context.stderr.write("\(style.yellow("warning:")) \(TerminalText.sanitize(text, keepingNewlines: true))\n")
    }

    public var style: Style { Style.forStderr(context: context, global: global) }
}

/// ANSI colour, only on a terminal and never with NO_COLOR or --no-color.
public struct Style: Sendable {
    public var enabled: Bool

    static func forStderr(context: Context, global: GlobalOptions) -> Style {
        Style(enabled: context.stderrIsTerminal && !global.noColor && (context.environment["NO_COLOR"] ?? "").isEmpty)
    }

    public func red(_ text: String) -> String { wrap(text, "31") }
    public func yellow(_ text: String) -> String { wrap(text, "33") }
    public func green(_ text: String) -> String { wrap(text, "32") }
    public func bold(_ text: String) -> String { wrap(text, "1") }

    private func wrap(_ text: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

/// Where a vault passphrase comes from: NOTIONAUTH_PASSPHRASE, the file descriptor named by
/// NOTIONAUTH_PASSPHRASE_FD, or a no-echo prompt. Without any of them it fails at once
/// rather than wait for input that will never come (CI).
enum PassphraseSource {
    static func obtain(context: Context, vaultPath: String, confirm: Bool) throws(NotionauthError) -> SecureBytes {
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
