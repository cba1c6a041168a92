import NotionAuthCore
import NotionAuthLogin
/// What a command accepts, used both to parse its arguments and to print its help, so the
/// two cannot disagree.
public struct CommandSpec: Sendable {
    public struct Option: Hashable, Sendable {
        public var name: String
        public var short: Character?
        /// Set for options that take a value (`--connection NAME`), nil for flags.
        public var valueName: String?
        public var help: String

        public init(_ name: String, short: Character? = nil, value: String? = nil, _ help: String) {
            self.name = name
            self.short = short
            self.valueName = value
            self.help = help
        }
    }

    public var name: String
    public var synopsis: String
    public var summary: String
    public var options: [Option]
    public var minPositionals: Int
    public var maxPositionals: Int
    /// Extra paragraphs for `--help`: examples, notes.
    public var details: String
    /// Whether what follows `--` is a command of its own (`run`) rather than more operands.
    public var takesCommandAfterDoubleDash = false
    /// Not listed in help or completion (`__complete`).
    public var hidden = false
    /// What the operands are, so that completion can offer them.
    public var operands: Operands = .none

    public enum Operands: Sendable {
        case none
        /// One provider name (`get notion`).
        case provider
        /// Any number of provider names (`run notion notion-mcp -- …`).
        case providers
        /// A provider, then one of its connections (`use notion work`).
        case providerThenConnection
        /// One of these words (`vault verify`).
        case words([String])
        /// A command name (`help get`).
        case commandName
    }

    public init(name: String, synopsis: String, summary: String, options: [Option], minPositionals: Int, maxPositionals: Int, details: String, operands: Operands = .none, takesCommandAfterDoubleDash: Bool = false, hidden: Bool = false) {
        self.name = name
        self.synopsis = synopsis
        self.summary = summary
        self.options = options
        self.minPositionals = minPositionals
        self.maxPositionals = maxPositionals
        self.details = details
        self.operands = operands
        self.takesCommandAfterDoubleDash = takesCommandAfterDoubleDash
        self.hidden = hidden
    }

    public static let vault = Option("vault", value: "PATH", "use the vault at PATH (default: $NOTIONAUTH_VAULT, else <config>/vault)")
    public static let store = Option("store", value: "URL", "use the store at URL: file:PATH or postgres://… (default: $NOTIONAUTH_STORE, else the vault)")
    public static let namespace = Option("namespace", value: "NAME", "the namespace within a shared store (default: $NOTIONAUTH_NAMESPACE, else default)")
    public static let json = Option("json", "machine-readable output on stdout")
    public static let quiet = Option("quiet", short: "q", "print nothing but what was asked for and errors")
    public static let noColor = Option("no-color", "never colour the output")
    public static let help = Option("help", short: "h", "show this help")

    /// Options every command accepts.
    public static let globalOptions: [Option] = [vault, store, namespace, json, quiet, noColor, help]

    /// `--connection NAME`, which most commands take.
    public static let connection = Option("connection", short: "c", value: "NAME", "the connection to use (default: default)")

    /// Every command's spec, in the order help lists them (hidden ones left out).
    public static var all: [CommandSpec] { Runner.commands.map { $0.spec }.filter { !$0.hidden } }

    public static func named(_ name: String) -> CommandSpec? {
        all.first { $0.name == name }
    }

    /// The text of `notionauth COMMAND --help`.
    public var helpText: String {
        var text = "usage: notionauth \(synopsis)\n\n\(summary)\n"
        if !options.isEmpty {
            text += "\nOptions:\n" + Self.format(options)
        }
        text += "\nGlobal options:\n" + Self.format(Self.globalOptions)
        if !details.isEmpty { text += "\n\(details)\n" }
        return text
    }

    static func format(_ options: [Option]) -> String {
        let rows = options.map { option -> (String, String) in
            var left = option.short.map { "-\($0), " } ?? "    "
            left += "--\(option.name)"
            if let value = option.valueName { left += " \(value)" }
            return (left, option.help)
        }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { "  \($0.0.padding(to: width))  \($0.1)\n" }.joined()
    }

    /// The text of `notionauth --help`.
    public static var mainHelp: String {
        let width = all.map(\.name.count).max() ?? 0
        let commands = all.map { "  \($0.name.padding(to: width))  \($0.summary)\n" }.joined()
        return """
        notionauth: Notion credentials for terminals, shells, CI and agents

        usage: notionauth COMMAND [options]

        Commands:
        \(commands)
        Global options:
        \(format(globalOptions))
        Run `notionauth COMMAND --help` for a command's options, `man notionauth` for everything.

        """
    }
}


