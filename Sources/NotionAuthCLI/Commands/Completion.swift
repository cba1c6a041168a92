import NotionAuthCore
import NotionAuthLogin
/// `notionauth completion bash|zsh|fish` and the hidden `__complete` the scripts call.
///
/// The scripts only hand the words on the line to `notionauth __complete`, so what they offer
/// follows `CommandSpec` and the vault without regenerating them.

struct CompletionCommand: CommandDefinition {
    static let spec = CommandSpec(
        name: "completion", synopsis: "completion bash|zsh|fish",
        summary: "print the shell completion script",
        options: [],
        minPositionals: 1, maxPositionals: 1,
        details: """
        Examples:
          source <(notionauth completion bash)          # in ~/.bashrc
          notionauth completion zsh > "${fpath[1]}/_notionauth"
          notionauth completion fish > ~/.config/fish/completions/notionauth.fish
        """,
        operands: .words(shells))

    let shell: String

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        guard let shell = arguments.firstPositional, Self.shells.contains(shell) else {
            throw .usage("completion needs a shell: bash, zsh or fish", command: Self.spec.name)
        }
        self.shell = shell
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        try Self.script(for: shell, session: session)
    }

    static let shells = ["bash", "zsh", "fish"]

    static func script(for shell: String, session: Session) throws(NotionauthError) -> ExitStatus {
        switch shell {
        case "bash": session.output(bashScript)
        case "zsh": session.output(zshScript)
        case "fish": session.output(fishScript)
        default: throw .usage("completion needs a shell: bash, zsh or fish", command: spec.name)
        }
        return .success
    }

    /// Prints the candidates for the last word, one a line. `words` is the line after the
    /// program name, up to and including the word being completed (possibly empty).
    /// Never fails: a shell would show an error in the middle of the user's line.
    static func complete(_ words: [String], session: Session) throws(NotionauthError) -> ExitStatus {
        guard let current = words.last else { return .success }
        let line = Line(words.dropLast())
        let matching = candidates(for: current, after: line, session: session).filter { $0.hasPrefix(current) }
        session.output(matching.map { $0 + "\n" }.joined())
        return .success
    }

    private static func candidates(for current: String, after line: Line, session: Session) -> [String] {
        if let option = line.awaitingValue {
            return values(for: option, line: line, session: session)
        }
        let options = (line.command?.options ?? []) + CommandSpec.globalOptions
        if !line.optionsEnded, current.hasPrefix("--"), current.contains("=") {
            let name = current.dropFirst(2).prefix { $0 != "=" }
            guard let option = options.first(where: { $0.name == name && $0.valueName != nil }) else { return [] }
            return values(for: option, line: line, session: session).map { "--\(name)=\($0)" }
        }
        if !line.optionsEnded, current.hasPrefix("-") {
            guard line.commandName == nil || line.command != nil else { return [] }
            // Before the command the parser also takes --version.
            return options.map { "--\($0.name)" } + (line.commandName == nil ? ["--version"] : [])
        }
        guard line.commandName != nil else { return CommandSpec.all.map(\.name) }
        guard let spec = line.command else { return [] }
        switch spec.operands {
        case .providers:
            // After `--` comes the command to run, which is the shell's business.
            return line.optionsEnded ? [] : providerNames(session).filter { !line.positionals.contains($0) }
        case .providerThenConnection:
            switch line.positionals.count {
            case 0: return providerNames(session)
            case 1: return connectionNames(line: line, session: session)
            default: return []
            }
        case _ where !line.positionals.isEmpty: return []
        case .provider: return providerNames(session)
        case let .words(words): return words
        case .commandName: return CommandSpec.all.map(\.name)
        case .none: return []
        }
    }

    private static func values(for option: CommandSpec.Option, line: Line, session: Session) -> [String] {
        switch option {
        case CommandSpec.connection, StatusCommand.connection: connectionNames(line: line, session: session)
        case GetCommand.field: ConnectionView.fieldNames
        case ExportCommand.format: ExportFormat.allCases.map(\.rawValue)
        case APICommand.provider: providerNames(session)
        default: []
        }
    }

    private static func providerNames(_ session: Session) -> [String] {
        // A broken override file must not hide the providers that do work.
        (try? session.providers.all().map(\.definition.name)) ?? ProviderRegistry.bundledNames
    }

    /// Names of the connections of the providers on the line (all, when it names none), from
    /// the vault's index alone: no record is decrypted, so no token is read, let alone printed.
    private static func connectionNames(line: Line, session: Session) -> [String] {
        var context = session.context
        // A passphrase prompt (or reading a descriptor meant for a real command) in the middle
        // of a Tab press would hang the shell; a vault that needs one completes nothing.
        context.environment["NOTIONAUTH_NO_PROMPT"] = "1"
        context.environment["NOTIONAUTH_PASSPHRASE_FD"] = nil
        var global = session.global
        if let path = line.values[CommandSpec.vault] { global.vault = path }
        guard let keys = try? Session(context: context, global: global).store.snapshot().connectionKeys() else { return [] }
        var names = Set<String>()
        for key in keys where ConnectionName.isValid(key.name) {
            if line.providers.isEmpty || line.providers.contains(key.provider) { names.insert(key.name) }
        }
        return names.sorted()
    }

    /// The words before the cursor, read as leniently as a half-typed line needs.
    private struct Line {
        var commandName: String?
        var command: CommandSpec?
        var positionals: [String] = []
        var values: [CommandSpec.Option: String] = [:]
        /// The option the word being completed is the value of.
        var awaitingValue: CommandSpec.Option?
        var optionsEnded = false

        init(_ words: ArraySlice<String>) {
            for word in words {
                if let option = awaitingValue {
                    // bash splits `--format=json` at '=' into three words.
                    if word == "=" { continue }
                    values[option] = word
                    awaitingValue = nil
                } else if optionsEnded || word == "-" || !word.hasPrefix("-") {
                    if commandName == nil {
                        commandName = word
                        command = CommandSpec.named(word)
                    } else {
                        positionals.append(word)
                    }
                } else if word == "--" {
                    optionsEnded = commandName != nil
                } else {
                    readOption(word)
                }
            }
        }

        private mutating func readOption(_ word: String) {
            let options = (command?.options ?? []) + CommandSpec.globalOptions
            if word.hasPrefix("--") {
                let body = word.dropFirst(2)
                let name = String(body.prefix { $0 != "=" })
                guard let option = options.first(where: { $0.name == name }), option.valueName != nil else { return }
                if let equals = body.firstIndex(of: "=") {
                    values[option] = String(body[body.index(after: equals)...])
                } else {
                    awaitingValue = option
                }
            } else if let letter = word.dropFirst().first,
                      let option = options.first(where: { $0.short == letter }), option.valueName != nil {
                // `-cwork` carries its value; `-c` takes the next word.
                if word.count > 2 {
                    values[option] = String(word.dropFirst(2))
                } else {
                    awaitingValue = option
                }
            }
        }

        /// The providers named so far, whose connections `--connection` should offer.
        var providers: [String] {
            switch command?.operands {
            case .providers?: positionals
            case .provider?, .providerThenConnection?: Array(positionals.prefix(1))
            default: values[APICommand.provider].map { [$0] } ?? []
            }
        }
    }

    static let bashScript = """
        # bash completion for notionauth; load with: source <(notionauth completion bash)
        _notionauth() {
            local cur=${COMP_WORDS[COMP_CWORD]} line
            # With '=' in COMP_WORDBREAKS, the cursor right after `--format=` is on a word "=".
            [[ $cur == = ]] && cur=
            COMPREPLY=()
            while IFS= read -r line; do
                COMPREPLY+=("$line")
            done < <(notionauth __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null)
        }
        complete -F _notionauth notionauth

        """

    static let zshScript = """
        #compdef notionauth
        # zsh completion for notionauth: put it in $fpath as _notionauth, or source it after compinit.
        _notionauth() {
            local -a candidates
            candidates=(${(f)"$(notionauth __complete "${(@)words[2,CURRENT-1]}" "$PREFIX" 2>/dev/null)"})
            compadd -- "${candidates[@]}"
        }
        # Autoloaded from $fpath, this file is the function's body and must complete now;
        # sourced, it only registers the function.
        if [[ $funcstack[1] == _notionauth ]]; then
            _notionauth "$@"
        else
            compdef _notionauth notionauth
        fi

        """

    static let fishScript = """
        # fish completion for notionauth; save as ~/.config/fish/completions/notionauth.fish
        complete -c notionauth -f -a '(notionauth __complete (commandline -opc)[2..-1] (commandline -ct))'

        """
}
