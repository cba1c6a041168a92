import NotionAuthCore
import NotionAuthLogin

/// Options that every command accepts.
public struct GlobalOptions: Equatable, Sendable {
    public var vault: String?
    public var store: String?
    public var namespace: String?
    public var json = false
    public var quiet = false
    public var noColor = false

    public init() {}
}

/// A command line turned into a value: the global options and the command to run.
public struct Invocation: Sendable {
    public var global: GlobalOptions
    public var command: any CommandDefinition
}

/// What the parser found on a command line, readable only through the options the
/// command's spec (or the global spec) declares: an option that is not declared cannot be
/// read, and one that is declared is named by its value, not by a string.
public struct ParsedArguments: Sendable {
    let spec: CommandSpec?
    var values: [String: String] = [:]
    /// Every value given, in order, with its option's name beside it, for options that may be
    /// given more than once. Two arrays of String rather than a dictionary of arrays: a new
    /// generic type costs `get` its runtime metadata at every start (about 40,000 instructions).
    var givenNames: [String] = []
    var givenValues: [String] = []
    var flags: Set<String> = []
    public internal(set) var positionals: [String] = []
    /// What followed `--`, for `run`'s command; nil when there was no `--`.
    public internal(set) var afterDoubleDash: [String]?

    init(spec: CommandSpec?) { self.spec = spec }

    public func value(_ option: CommandSpec.Option) -> String? {
        values[declared(option)]
    }

    /// Every value given for an option that may be repeated (`--connection a --connection b`).
    public func values(_ option: CommandSpec.Option) -> [String] {
        let name = declared(option)
        return givenNames.indices.filter { givenNames[$0] == name }.map { givenValues[$0] }
    }

    public func flag(_ option: CommandSpec.Option) -> Bool {
        flags.contains(declared(option))
    }

    public var firstPositional: String? { positionals.first }

    /// The value of `--connection`, checked, or `default`.
    /// The connection named with `--connection`, checked; nil when none was given (the
    /// provider's default then applies: `Broker.connectionName`).
    public func connection(_ option: CommandSpec.Option = CommandSpec.connection) throws(NotionauthError) -> String? {
        guard let name = value(option) else { return nil }
        return try checkedConnectionName(name)
    }

    /// Every `--connection` given, checked, in order and without repeats.
    public func connections(_ option: CommandSpec.Option = CommandSpec.connection) throws(NotionauthError) -> [String] {
        var names: [String] = []
        for name in values(option) where !names.contains(name) {
            names.append(try checkedConnectionName(name))
        }
        return names
    }

    private func checkedConnectionName(_ name: String) throws(NotionauthError) -> String {
        guard ConnectionName.isValid(name) else {
            throw .usage("'\(name)' is not a valid connection name (letters, digits, '.', '_', '-'; at most 64)", command: spec?.name)
        }
        return name
    }

    private func declared(_ option: CommandSpec.Option) -> String {
        precondition((spec?.options ?? []).contains(option) || CommandSpec.globalOptions.contains(option),
                     "--\(option.name) is not declared by \(spec?.name ?? "the global options")")
        return option.name
    }
}

/// Hand-rolled parsing: `--opt value`, `--opt=value`, `-o value`, `--` ends options,
/// global options anywhere, near misses suggested.
public enum ArgumentParser {
    typealias Parsed = ParsedArguments

    public static func parse(_ arguments: [String]) throws(NotionauthError) -> Invocation {
        var global = GlobalOptions()
        var rest = arguments[...]

        // Global options may come before the command name.
        var leading = Parsed(spec: nil)
        while let first = rest.first, first.hasPrefix("-"), first != "--" {
            if first == "--version" || first == "-V" {
                return Invocation(global: global, command: VersionCommand())
            }
            rest = rest.dropFirst()
            try consumeOption(first, rest: &rest, spec: nil, into: &leading)
        }
        apply(leading, to: &global)
        if leading.flag(CommandSpec.help) { return Invocation(global: global, command: HelpCommand(topic: nil)) }
        guard let name = rest.first else {
            return Invocation(global: global, command: HelpCommand(topic: nil))
        }
        if name == "--" { rest = rest.dropFirst() }
        if rest.first == CompleteCommand.spec.name {
            return Invocation(global: global, command: CompleteCommand(words: Array(rest.dropFirst())))
        }
        guard let commandName = rest.first, let type = Runner.command(named: commandName) else {
            let word = rest.first ?? ""
            let suggestion = NearMiss.closest(to: word, among: CommandSpec.all.map(\.name))
            throw .usage("unknown command '\(word)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""), command: nil)
        }
        rest = rest.dropFirst()
        let spec = type.spec

        var parsed = Parsed(spec: spec)
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
        if parsed.flag(CommandSpec.help) { return Invocation(global: global, command: HelpCommand(topic: spec.name)) }
        // Only `run` gives `--` a meaning of its own; elsewhere it just ends the options.
        if !spec.takesCommandAfterDoubleDash, let rest = parsed.afterDoubleDash {
            parsed.positionals += rest
            parsed.afterDoubleDash = nil
        }
        guard parsed.positionals.count >= spec.minPositionals else {
            throw .usage("\(spec.name) needs \(spec.synopsis.split(separator: " ").dropFirst().first ?? "an argument")", command: spec.name)
        }
        guard parsed.positionals.count <= spec.maxPositionals else {
            throw .usage("unexpected argument '\(parsed.positionals[spec.maxPositionals])'", command: spec.name)
        }
        return Invocation(global: global, command: try type.init(parsed))
    }

    private static func apply(_ parsed: Parsed, to global: inout GlobalOptions) {
        if let vault = parsed.value(CommandSpec.vault) { global.vault = vault }
        if let store = parsed.value(CommandSpec.store) { global.store = store }
        if let namespace = parsed.value(CommandSpec.namespace) { global.namespace = namespace }
        if parsed.flag(CommandSpec.json) { global.json = true }
        if parsed.flag(CommandSpec.quiet) { global.quiet = true }
        if parsed.flag(CommandSpec.noColor) { global.noColor = true }
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
                parsed.givenNames.append(name)
                parsed.givenValues.append(inlineValue)
            } else if let next = rest.first, !(next.hasPrefix("-") && next.count > 1) {
                parsed.values[name] = next
                parsed.givenNames.append(name)
                parsed.givenValues.append(next)
                rest = rest.dropFirst()
            } else {
                throw .usage("--\(name) needs a value (\(valueName))", command: spec?.name)
            }
        } else {
            guard inlineValue == nil else { throw .usage("--\(name) takes no value", command: spec?.name) }
            parsed.flags.insert(name)
        }
    }
}
