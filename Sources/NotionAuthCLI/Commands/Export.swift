import NotionAuthCore
import NotionAuthLogin
public enum ExportFormat: String, CaseIterable, Sendable {
    case env, dotenv, json, fish
    case githubActions = "github-actions"
}

public struct ExportOptions: Equatable, Sendable {
    public var provider: String?
    /// Nil: the provider's default (`use`, NOTIONAUTH_CONNECTION, else `default`).
    public var connection: String?
    public var format = ExportFormat.env
}

/// `notionauth export [PROVIDER] [--connection NAME] [--format env|dotenv|json]`
///
/// Prints access tokens under the provider's variable names, refreshing one that is about
/// to expire. Refresh tokens and client secrets are never exported: a program needs the
/// access token only.
struct ExportCommand: CommandDefinition {
    static let format = CommandSpec.Option("format", value: "FORMAT", "env (default: export lines for eval), dotenv, json, fish, or github-actions")
    static let spec = CommandSpec(
        name: "export", synopsis: "export [PROVIDER] [--connection NAME] [--format env|dotenv|json|fish|github-actions]",
        summary: "print access tokens as environment variables",
        options: [CommandSpec.connection, format],
        minPositionals: 0, maxPositionals: 1,
        details: """
        Without PROVIDER: the connection of every provider that has one (--connection, else default).
        Refresh tokens and client secrets are never exported.

        github-actions masks each value (::add-mask:: on stdout) and appends it to $GITHUB_ENV.

        Examples:
          eval "$(notionauth export notion)"
          notionauth export notion --format fish | source
          notionauth export notion --format github-actions      # in a workflow step
          notionauth export notion --format dotenv > notion.env && docker run --env-file notion.env …
        """,
        operands: .provider)

    let options: ExportOptions

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        var options = ExportOptions(provider: arguments.firstPositional)
        options.connection = try arguments.connection()
        if let format = arguments.value(Self.format) {
            guard let value = ExportFormat(rawValue: format) else {
                let suggestion = NearMiss.closest(to: format, among: ExportFormat.allCases.map(\.rawValue))
                throw .usage("unknown format '\(format)'; formats: \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", "))" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""), command: Self.spec.name)
            }
            options.format = value
        }
        self.options = options
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        try Self.run(options, session: session)
    }

    static func run(_ options: ExportOptions, session: Session) throws(NotionauthError) -> ExitStatus {
        let variables = try variables(providers: options.provider.map { [$0] }, connection: options.connection, session: session)
        guard options.format == .githubActions else {
            session.output(try ExportFormatter.format(variables, as: options.format))
            return .success
        }
        guard let envFile = session.context.environment["GITHUB_ENV"], !envFile.isEmpty else {
            throw .usage("--format github-actions writes to $GITHUB_ENV, which is not set (not in a GitHub Actions step?)", command: Self.spec.name)
        }
        let (masks, lines) = try ExportFormatter.githubActions(variables, delimiter: "NOTIONAUTH_" + Base64URL.encode(Sodium.randomBytes(18)).replacingAll("-", with: "_"))
        try FileSystem.append(envFile, bytes: Array(lines.utf8))
        session.output(masks)
        return .success
    }

    /// The variables of the named providers' connections (each must be usable), or with no
    /// names of every provider that has this connection (unusable ones skipped with a warning).
    static func variables(providers names: [String]?, connection: String?, session: Session) throws(NotionauthError) -> [(String, String)] {
        try grants(providers: names, connection: connection, session: session).flatMap { grant in
            grant.provider.exportAccessToken.map { ($0, grant.connection.accessToken) }
        }
    }

    /// The usable connection of each provider in `names` (an error for one that has none), or
    /// of every provider that has one (skipping, with a warning, those that cannot be used):
    /// what `export` prints and `run` hands out or serves. The connection is `connection`, or
    /// each provider's own default when nil (`Broker.connectionName`).
    static func grants(providers names: [String]?, connection: String?, session: Session) throws(NotionauthError) -> [RunProxy.Grant] {
        var grants: [RunProxy.Grant] = []
        // One snapshot for the defaults and the records: the store is opened once.
        let snapshot = try session.store.snapshot()
        if let names {
            for name in names {
                let provider = try session.provider(name).definition
                let chosen = try session.broker.connectionName(provider: provider.name, given: connection, in: snapshot)
                guard let stored = try snapshot.connection(provider: provider.name, name: chosen) else {
                    throw .notLoggedIn(provider: provider.name, connection: chosen)
                }
                let usable = try TokenRefresh(broker: session.broker, provider: provider).usable(stored)
                grants.append(RunProxy.Grant(provider: provider, connection: usable))
            }
            return grants
        }
        // The store's keys say which providers have their chosen connection without decrypting
        // any; each provider's choice is looked up once.
        let keys = try snapshot.connectionKeys()
        var chosen: [(provider: String, name: String)] = []
        for key in keys where !chosen.contains(where: { $0.provider == key.provider }) {
            let name = try session.broker.connectionName(provider: key.provider, given: connection, in: snapshot)
            if keys.contains(ConnectionKey(provider: key.provider, name: name)) { chosen.append((key.provider, name)) }
        }
        for (name, connectionName) in chosen {
            let provider: ProviderDefinition
            do {
                provider = try session.provider(name).definition
            } catch .providerNotFound {
                session.warn("skipping \(name): its provider definition is gone")
                continue
            }
            do {
                guard let stored = try snapshot.connection(provider: name, name: connectionName) else { continue }
                let usable = try TokenRefresh(broker: session.broker, provider: provider).usable(stored)
                grants.append(RunProxy.Grant(provider: provider, connection: usable))
            } catch {
                session.warn("skipping \(name): \(error.description)")
            }
        }
        return grants
    }
}

/// Renders variables so each format's consumer reads back exactly the bytes we hold.
public enum ExportFormatter {
    public static func format(_ variables: [(String, String)], as format: ExportFormat) throws(NotionauthError) -> String {
        try refuseNUL(variables)
        switch format {
        case .env:
            return variables.map { "export \($0.0)=\(posixQuote($0.1))\n" }.joined()
        case .dotenv:
            return try variables.map { (variable) throws(NotionauthError) -> String in
                try dotenvLine(variable.0, variable.1)
            }.joined()
        case .json:
            var object: [String: JSONValue] = [:]
            for (name, value) in variables { object[name] = .string(value) }
            return JSONValue.object(object).encoded() + "\n"
        case .fish:
            return variables.map { "set -gx \($0.0) \(fishQuote($0.1))\n" }.joined()
        case .githubActions:
            return try githubActions(variables, delimiter: "EOF").masks
        }
    }

    /// Inside fish's single quotes only `\\` and `\'` are escapes; everything else, newlines
    /// included, is literal.
    public static func fishQuote(_ value: String) -> String {
        "'" + value.replacingAll("\\", with: "\\\\").replacingAll("'", with: "\\'") + "'"
    }

    /// GitHub Actions: `::add-mask::` workflow commands for stdout, so the runner hides the
    /// values in logs (one per line of a multi-line value), and `NAME<<DELIMITER` blocks for
    /// $GITHUB_ENV, which carry any value as long as the delimiter is not one of its lines.
    public static func githubActions(_ variables: [(String, String)], delimiter: String) throws(NotionauthError) -> (masks: String, envFile: String) {
        try refuseNUL(variables)
        var masks = ""
        var envFile = ""
        for (name, value) in variables {
            for line in value.unicodeScalars.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) where !line.isEmpty {
                masks += "::add-mask::\(workflowEscape(String(String.UnicodeScalarView(line))))\n"
            }
            if value.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).contains(where: { String(String.UnicodeScalarView($0)) == delimiter }) {
                throw .unrepresentable("the value of \(name) contains the heredoc delimiter; try again")
            }
            envFile += "\(name)<<\(delimiter)\n\(value)\n\(delimiter)\n"
        }
        return (masks, envFile)
    }

    /// Workflow-command data escaping, as the runner undoes it.
    static func workflowEscape(_ text: String) -> String {
        text.replacingAll("%", with: "%25").replacingAll("\r", with: "%0D").replacingAll("\n", with: "%0A")
    }

    static func refuseNUL(_ variables: [(String, String)]) throws(NotionauthError) {
        for (name, value) in variables where value.utf8.contains(0) {
            throw .unrepresentable("the value of \(name) contains a NUL byte, which no environment can hold")
        }
    }

    /// Single quotes keep every byte literal in sh, bash, dash and zsh; a single quote
    /// itself is written as `'\''` (close, escaped quote, reopen).
    public static func posixQuote(_ value: String) -> String {
        "'" + value.replacingAll("'", with: "'\\''") + "'"
    }

    /// Docker's `--env-file` takes everything after `=` literally, to the end of the line,
    /// and has no escapes: a value with a line break cannot be written at all.
    static func dotenvLine(_ name: String, _ value: String) throws(NotionauthError) -> String {
        if value.utf8.contains(10) || value.utf8.contains(13) {
            throw .unrepresentable("the value of \(name) contains a line break, which the dotenv format cannot carry; use --format env or json")
        }
        return "\(name)=\(value)\n"
    }
}

extension String {
    /// Replaces every occurrence of `target`, matching Unicode scalars rather than
    /// characters: a quote followed by a combining mark is one Character but still a quote
    /// to a shell, so quoting must see it.
    func replacingAll(_ target: String, with replacement: String) -> String {
        let scalars = Array(unicodeScalars)
        let pattern = Array(target.unicodeScalars)
        guard !pattern.isEmpty else { return self }
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            if i + pattern.count <= scalars.count && scalars[i..<(i + pattern.count)].elementsEqual(pattern) {
                out.append(contentsOf: replacement.unicodeScalars)
                i += pattern.count
            } else {
                out.append(scalars[i])
                i += 1
            }
        }
        return String(out)
    }
}
