import NotionAuthCore

/// What one command runs with: the broker (context, files, store, providers) and the
/// global options, with the ways a command talks to people.
public struct Session: Sendable {
    public let broker: Broker
    public let global: GlobalOptions

    public init(context: Context, global: GlobalOptions) {
        self.global = global
        let style = Style.forStderr(context: context, global: global)
        let stderr = context.stderr
        broker = Broker(context: context, vaultPath: global.vault, storeURL: global.store, namespace: global.namespace) { text in
            stderr.write("\(style.yellow("warning:")) \(TerminalText.sanitize(text, keepingNewlines: true))\n")
        }
    }

    public var context: Context { broker.context }
    public var paths: Paths { broker.paths }
    public var vault: Vault { broker.vault }
    public var store: any CredentialStore { broker.store }
    public var providers: ProviderRegistry { broker.providers }

    public var now: Int64 { context.now() }

    /// Resolves a provider and reports any unknown-key warnings from its file.
    public func provider(_ name: String) throws(NotionauthError) -> ResolvedProvider {
        try broker.provider(name)
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
        broker.warn(text)
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

