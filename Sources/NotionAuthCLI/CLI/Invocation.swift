import NotionAuthCore
import NotionAuthLogin
/// Options that every command accepts.
public struct GlobalOptions: Equatable, Sendable {
    public var vault: String?
    public var json = false
    public var quiet = false
    public var noColor = false

    public init() {}
}

public struct LoginOptions: Equatable, Sendable {
    public var provider: String
    public var connection = ConnectionName.defaultName
    public var withToken = false
    public var noVerify = false
    public var force = false
    public var noBrowser = false
    /// Overrides the redirect URI's port (7998 by default).
    public var port: Int?
    public var timeoutSeconds = 300
    public var clientID: String?
    public var clientSecretStdin = false
    public var resetClient = false
}

public struct GetOptions: Equatable, Sendable {
    public var provider: String
    public var connection = ConnectionName.defaultName
    public var field: String?
    public var showSecrets = false
}

public enum ExportFormat: String, CaseIterable, Sendable {
    case env, dotenv, json, fish
    case githubActions = "github-actions"
}

public struct ExportOptions: Equatable, Sendable {
    public var provider: String?
    public var connection = ConnectionName.defaultName
    public var format = ExportFormat.env
}

public struct StatusOptions: Equatable, Sendable {
    public var provider: String?
    public var connection: String?
}

public struct LogoutOptions: Equatable, Sendable {
    public var provider: String
    public var connection = ConnectionName.defaultName
    public var all = false
    public var keepRemote = false
}

public struct RunOptions: Equatable, Sendable {
    /// Empty: every provider with the connection.
    public var providers: [String] = []
    public var connection = ConnectionName.defaultName
    public var command: [String] = []
    public var allowNested = false
}

public struct APIOptions: Equatable, Sendable {
    public var provider = "notion"
    public var connection = ConnectionName.defaultName
    public var method: String?
    public var path: String
    /// JSON text, `@FILE` or `-` (standard input), as given.
    public var data: String?
    public var notionVersion: String?
}

public enum VaultAction: String, CaseIterable, Sendable {
    case status, verify, passphrase, keyfile
}

/// A command line turned into a value: what to run and with which options.
public enum Command: Equatable, Sendable {
    case help(topic: String?)
    case version
    case login(LoginOptions)
    case get(GetOptions)
    case export(ExportOptions)
    case inspect(provider: String)
    case list
    case vault(VaultAction)
    case status(StatusOptions)
    case logout(LogoutOptions)
    case run(RunOptions)
    case api(APIOptions)
    /// `completion bash|zsh|fish`: the shell's completion script.
    case completion(shell: String)
    /// `__complete WORD…` (hidden): candidates for the word being completed, used by the scripts.
    case complete(words: [String])
}

public struct Invocation: Equatable, Sendable {
    public var global: GlobalOptions
    public var command: Command
}

/// Hand-rolled parsing: `--opt value`, `--opt=value`, `-o value`, `--` ends options,
/// global options anywhere, near misses suggested.
public enum ArgumentParser {
    struct Parsed {
        var values: [String: String] = [:]
        var flags: Set<String> = []
        var positionals: [String] = []
        /// What followed `--`, for `run`'s command; nil when there was no `--`.
        var afterDoubleDash: [String]?

        func value(_ name: String) -> String? { values[name] }
        func flag(_ name: String) -> Bool { flags.contains(name) }
    }

    public static func parse(_ arguments: [String]) throws(NotionauthError) -> Invocation {
        var global = GlobalOptions()
        var rest = arguments[...]

        // Global options may come before the command name.
        var leading = Parsed()
        while let first = rest.first, first.hasPrefix("-"), first != "--" {
            if first == "--version" || first == "-V" {
                return Invocation(global: global, command: .version)
            }
            rest = rest.dropFirst()
            try consumeOption(first, rest: &rest, spec: nil, into: &leading)
        }
        apply(leading, to: &global)
        if leading.flag("help") { return Invocation(global: global, command: .help(topic: nil)) }
        guard let name = rest.first else {
            return Invocation(global: global, command: .help(topic: nil))
        }
        if name == "--" { rest = rest.dropFirst() }
        if rest.first == "__complete" {
            return Invocation(global: global, command: .complete(words: Array(rest.dropFirst())))
        }
        guard let commandName = rest.first, let spec = CommandSpec.named(commandName) else {
            let word = rest.first ?? ""
            let suggestion = NearMiss.closest(to: word, among: CommandSpec.all.map(\.name))
            throw .usage("unknown command '\(word)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""), command: nil)
        }
        rest = rest.dropFirst()

        var parsed = Parsed()
        var optionsEnded = false
        while let argument = rest.first {
            rest = rest.dropFirst()
            if optionsEnded {
                parsed.afterDoubleDash?.append(argument)
            } else if argument == "-" || !argument.hasPrefix("-") {
                parsed.positionals.append(argument)
            } else if argument == "--" {
                optionsEnded = true
                parsed.afterDoubleDash = []
            } else {
                try consumeOption(argument, rest: &rest, spec: spec, into: &parsed)
            }
        }
        apply(parsed, to: &global)
        if parsed.flag("help") { return Invocation(global: global, command: .help(topic: spec.name)) }
        // Only `run` gives `--` a meaning of its own; elsewhere it just ends the options.
        if spec.name != "run", let rest = parsed.afterDoubleDash {
            parsed.positionals += rest
            parsed.afterDoubleDash = nil
        }
        guard parsed.positionals.count >= spec.minPositionals else {
            throw .usage("\(spec.name) needs \(spec.synopsis.split(separator: " ").dropFirst().first ?? "an argument")", command: spec.name)
        }
        guard parsed.positionals.count <= spec.maxPositionals else {
            throw .usage("unexpected argument '\(parsed.positionals[spec.maxPositionals])'", command: spec.name)
        }
        return Invocation(global: global, command: try command(spec.name, parsed))
    }

    private static func apply(_ parsed: Parsed, to global: inout GlobalOptions) {
        if let vault = parsed.value("vault") { global.vault = vault }
        if parsed.flag("json") { global.json = true }
        if parsed.flag("quiet") { global.quiet = true }
        if parsed.flag("no-color") { global.noColor = true }
    }

    private static func consumeOption(
        _ argument: String, rest: inout ArraySlice<String>, spec: CommandSpec?, into parsed: inout Parsed
    ) throws(NotionauthError) {
        let options = (spec?.options ?? []) + CommandSpec.globalOptions
        var name: String
        var inlineValue: String?
        if argument.hasPrefix("--") {
            name = String(argument.dropFirst(2))
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
        } else {
            // Short options: `-c work`, `-cwork`; single letters only.
            let letter = argument.dropFirst().first!
            guard let option = options.first(where: { $0.short == letter }) else {
                throw .usage("unknown option '\(argument)'", command: spec?.name)
            }
            name = option.name
            let attached = argument.dropFirst(2)
            if !attached.isEmpty {
                guard option.valueName != nil else { throw .usage("unknown option '\(argument)'", command: spec?.name) }
                inlineValue = String(attached)
            }
        }
        guard let option = options.first(where: { $0.name == name }) else {
            let suggestion = NearMiss.closest(to: name, among: options.map(\.name))
            throw .usage("unknown option '--\(name)'" + (suggestion.map { "; did you mean --\($0)?" } ?? ""), command: spec?.name)
        }
        if let valueName = option.valueName {
            if let inlineValue {
                parsed.values[name] = inlineValue
            } else if let next = rest.first, !(next.hasPrefix("-") && next.count > 1) {
                parsed.values[name] = next
                rest = rest.dropFirst()
            } else {
                throw .usage("--\(name) needs a value (\(valueName))", command: spec?.name)
            }
        } else {
            guard inlineValue == nil else { throw .usage("--\(name) takes no value", command: spec?.name) }
            parsed.flags.insert(name)
        }
    }

    private static func connectionName(_ parsed: Parsed, command: String) throws(NotionauthError) -> String {
        guard let name = parsed.value("connection") else { return ConnectionName.defaultName }
        guard ConnectionName.isValid(name) else {
            throw .usage("'\(name)' is not a valid connection name (letters, digits, '.', '_', '-'; at most 64)", command: command)
        }
        return name
    }

    private static func command(_ name: String, _ parsed: Parsed) throws(NotionauthError) -> Command {
        let positional = parsed.positionals.first
        switch name {
        case "login":
            var options = LoginOptions(provider: positional!)
            options.connection = try connectionName(parsed, command: name)
            options.withToken = parsed.flag("with-token")
            options.noVerify = parsed.flag("no-verify")
            options.force = parsed.flag("force")
            options.noBrowser = parsed.flag("no-browser")
            options.clientSecretStdin = parsed.flag("client-secret-stdin")
            options.resetClient = parsed.flag("reset-client")
            options.clientID = parsed.value("client-id")
            if let port = parsed.value("port") {
                guard let value = Int(port), value >= 1, value <= 65535 else {
                    throw .usage("--port needs a port number from 1 to 65535", command: name)
                }
                options.port = value
            }
            if let timeout = parsed.value("timeout") {
                guard let value = Int(timeout), value >= 1 else {
                    throw .usage("--timeout needs a whole number of seconds", command: name)
                }
                options.timeoutSeconds = value
            }
            if options.noVerify && !options.withToken {
                throw .usage("--no-verify goes with --with-token", command: name)
            }
            if options.withToken {
                let browserOnly = ["no-browser", "client-secret-stdin", "reset-client"].filter(parsed.flag) + ["port", "timeout", "client-id"].filter { parsed.value($0) != nil }
                if let first = browserOnly.first {
                    throw .usage("--\(first) is for browser login, not --with-token", command: name)
                }
            }
            if options.clientSecretStdin && options.clientID == nil {
                throw .usage("--client-secret-stdin goes with --client-id", command: name)
            }
            return .login(options)
        case "get":
            var options = GetOptions(provider: positional!)
            options.connection = try connectionName(parsed, command: name)
            options.field = parsed.value("field")
            options.showSecrets = parsed.flag("show-secrets")
            return .get(options)
        case "export":
            var options = ExportOptions(provider: positional)
            options.connection = try connectionName(parsed, command: name)
            if let format = parsed.value("format") {
                guard let value = ExportFormat(rawValue: format) else {
                    let suggestion = NearMiss.closest(to: format, among: ExportFormat.allCases.map(\.rawValue))
                    throw .usage("unknown format '\(format)'; formats: \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", "))" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""), command: name)
                }
                options.format = value
            }
            return .export(options)
        case "inspect":
            return .inspect(provider: positional!)
        case "list":
            return .list
        case "vault":
            guard let action = VaultAction(rawValue: positional ?? "status") else {
                throw .usage("unknown vault action '\(positional!)'; actions: \(VaultAction.allCases.map(\.rawValue).joined(separator: ", "))", command: name)
            }
            return .vault(action)
        case "status":
            var options = StatusOptions(provider: positional)
            if parsed.value("connection") != nil { options.connection = try connectionName(parsed, command: name) }
            return .status(options)
        case "logout":
            var options = LogoutOptions(provider: positional!)
            options.connection = try connectionName(parsed, command: name)
            options.all = parsed.flag("all")
            options.keepRemote = parsed.flag("keep-remote")
            if options.all && parsed.value("connection") != nil {
                throw .usage("--all and --connection exclude each other", command: name)
            }
            return .logout(options)
        case "run":
            var options = RunOptions()
            options.providers = parsed.positionals
            options.connection = try connectionName(parsed, command: name)
            options.allowNested = parsed.flag("allow-nested")
            guard let command = parsed.afterDoubleDash, !command.isEmpty else {
                throw .usage("run needs a command after --, as in `notionauth run notion -- ./sync.sh`", command: name)
            }
            options.command = command
            return .run(options)
        case "api":
            var options = APIOptions(path: positional!)
            if let provider = parsed.value("provider") { options.provider = provider }
            options.connection = try connectionName(parsed, command: name)
            options.method = parsed.value("method")?.uppercased()
            options.data = parsed.value("data")
            options.notionVersion = parsed.value("notion-version")
            guard options.path.hasPrefix("/") else {
                throw .usage("the path must start with '/', as in /v1/users/me", command: name)
            }
            // What goes into the request line must not be able to end it early.
            if let method = options.method, !HTTPRequest.isToken(method) {
                throw .usage("-X takes an HTTP method such as GET, POST, PATCH or DELETE (letters, digits and !#$%&'*+-.^_`|~ only)", command: name)
            }
            if options.path.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
                throw .usage("the path contains a space, a control character or a non-ASCII byte; percent-encode it", command: name)
            }
            if let version = options.notionVersion, !HTTPRequest.isToken(version) {
                throw .usage("--notion-version takes a version such as 2025-09-03", command: name)
            }
            return .api(options)
        case "completion":
            guard let shell = positional, ["bash", "zsh", "fish"].contains(shell) else {
                throw .usage("completion needs a shell: bash, zsh or fish", command: name)
            }
            return .completion(shell: shell)
        case "help":
            if let positional, CommandSpec.named(positional) == nil {
                throw .usage("no command '\(positional)'", command: "help")
            }
            return .help(topic: positional)
        default:
            return .version
        }
    }
}
