import NotionAuthCore

/// `notionauth help [COMMAND]`, `--help` anywhere: the help text the specs make.
struct HelpCommand: CommandDefinition {
    static let spec = CommandSpec(
        name: "help", synopsis: "help [COMMAND]",
        summary: "show help for notionauth or one command",
        options: [],
        minPositionals: 0, maxPositionals: 1,
        details: "",
        operands: .commandName)

    let topic: String?

    init(topic: String?) {
        self.topic = topic
    }

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        if let word = arguments.firstPositional, CommandSpec.named(word) == nil {
            throw .usage("no command '\(word)'", command: Self.spec.name)
        }
        topic = arguments.firstPositional
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        session.output(topic.flatMap(CommandSpec.named)?.helpText ?? CommandSpec.mainHelp)
        return .success
    }
}

/// `notionauth version`, `--version`, `-V`.
struct VersionCommand: CommandDefinition {
    static let spec = CommandSpec(
        name: "version", synopsis: "version",
        summary: "print the version",
        options: [],
        minPositionals: 0, maxPositionals: 0,
        details: "")

    init() {}

    init(_ arguments: ParsedArguments) throws(NotionauthError) {}

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        session.output("notionauth \(Version.current)\n")
        return .success
    }
}

/// `notionauth __complete WORD…` (hidden): candidates for the word being completed, one a
/// line, for the scripts `completion` prints.
struct CompleteCommand: CommandDefinition {
    static let spec = CommandSpec(
        name: "__complete", synopsis: "__complete WORD…", summary: "completion candidates (used by the completion scripts)",
        options: [], minPositionals: 0, maxPositionals: .max, details: "", hidden: true)

    let words: [String]

    init(words: [String]) {
        self.words = words
    }

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        words = arguments.positionals
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        try CompletionCommand.complete(words, session: session)
    }
}
