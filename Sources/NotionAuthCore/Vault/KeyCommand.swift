/// A command whose standard output is the vault's key (NOTIONAUTH_KEY_COMMAND, or the one
/// `vault key-command` stores beside the vault), as git runs credential helpers and the AWS
/// CLI `credential_process`: the key can then live in `pass`, 1Password, the desktop keyring
/// or a hardware token.
///
/// It is written as a shell command line but runs without a shell: words split at blanks,
/// single quotes take everything literally, double quotes and backslashes work as in sh. What a
/// shell would expand or interpret (`$`, a backquote, `|`, `;`, `&`, `<`, `>`, parentheses,
/// a leading `~` or `#`) is refused rather than passed on with another meaning.
public struct KeyCommand: Equatable, Sendable {
    public let words: [String]

    public init(words: [String]) {
        precondition(!words.isEmpty && !words[0].isEmpty, "a key command needs a program")
        self.words = words
    }

    /// Why a command line could not be read.
    public struct SyntaxError: Error, Equatable {
        public var reason: String
    }

    public init(parsing text: String) throws(SyntaxError) {
        var words: [String] = []
        var word: String.UnicodeScalarView?
        var quote: Unicode.Scalar?
        var scalars = text.unicodeScalars.makeIterator()
        while let c = scalars.next() {
            switch quote {
            case "'":
                if c == "'" { quote = nil } else { word!.append(c) }
            case "\"":
                switch c {
                case "\"": quote = nil
                case "\\":
                    guard let next = scalars.next() else { throw SyntaxError(reason: "a double quote is not closed") }
                    if next == "\n" { continue }
                    if !["$", "`", "\"", "\\"].contains(next) { word!.append("\\") }
                    word!.append(next)
                case "$", "`":
                    throw SyntaxError(reason: "`\(c)` inside double quotes would be expanded by a shell, but the command runs without one; use single quotes")
                default: word!.append(c)
                }
            default:
                switch c {
                case " ", "\t", "\n":
                    if let done = word { words.append(String(done)) }
                    word = nil
                case "'", "\"":
                    quote = c
                    word = word ?? String.UnicodeScalarView()
                case "\\":
                    guard let next = scalars.next() else { throw SyntaxError(reason: "it ends with a backslash") }
                    if next == "\n" { continue }
                    word = word ?? String.UnicodeScalarView()
                    word!.append(next)
                case "|", "&", ";", "<", ">", "(", ")", "$", "`":
                    throw SyntaxError(reason: "`\(c)` means something to a shell, but the command runs without one; quote it, or run a shell yourself: sh -c '…'")
                case "~" where word == nil, "#" where word == nil:
                    throw SyntaxError(reason: "a word starting with `\(c)` means something to a shell, but the command runs without one; write the full path, or quote it")
                default:
                    word = word ?? String.UnicodeScalarView()
                    word!.append(c)
                }
            }
        }
        if quote != nil { throw SyntaxError(reason: "a \(quote == "'" ? "single" : "double") quote is not closed") }
        if let done = word { words.append(String(done)) }
        guard let first = words.first else { throw SyntaxError(reason: "it is empty") }
        guard !first.isEmpty else { throw SyntaxError(reason: "its program is an empty word") }
        self.words = words
    }

    /// The words as one line that `init(parsing:)` reads back: a word of plain characters as
    /// it is, any other in single quotes.
    public var text: String {
        words.map { word in
            let plain = !word.isEmpty && word.unicodeScalars.allSatisfy { Self.plain.contains($0) } && word.first != "~" && word.first != "#"
            return plain ? word : "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: #"'\''"#) + "'"
        }.joined(separator: " ")
    }

    private static let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-~#".unicodeScalars)

    /// The program's name, which is all that errors show: the rest of a command line may hold
    /// something that is not for logs.
    public var program: String { FileSystem.baseName(words[0]) }
}

/// How key commands run: the environment they get, whether they may use our terminal, how
/// long they have.
public struct KeyCommandRunner: Sendable {
    /// Our environment; the helper gets it without `withheld` (filtered when one runs, off
    /// the path of every `get` that never runs one).
    var environment: [String: String]
    var stdinIsTerminal: Bool
    /// NOTIONAUTH_KEY_COMMAND_TIMEOUT as set, read when a command runs.
    var timeoutSetting: String?
    /// Descriptors that were for us alone (NOTIONAUTH_PASSPHRASE_FD).
    var closing: [Int32]

    public static let defaultTimeout = 30.0
    /// A key is 45 bytes of text; anything much longer is not one.
    static let outputLimit = 4096

    public init(environment: [String: String] = [:], stdinIsTerminal: Bool = false, timeoutSetting: String? = nil, closing: [Int32] = []) {
        self.environment = environment
        self.stdinIsTerminal = stdinIsTerminal
        self.timeoutSetting = timeoutSetting
        self.closing = closing
    }

    /// The runner for the process `context` describes.
    public init(context: Context) {
        let environment = context.environment
        self.init(
            environment: environment,
            stdinIsTerminal: context.stdinIsTerminal,
            timeoutSetting: environment["NOTIONAUTH_KEY_COMMAND_TIMEOUT"].flatMap { $0.isEmpty ? nil : $0 },
            closing: environment["NOTIONAUTH_PASSPHRASE_FD"].flatMap { Int32($0) }.map { [$0] } ?? [])
    }

    /// What a helper is not given: it gets a key for us, never one from us, nor the shared
    /// store's URL (it may carry the database's password).
    static let withheld = ["NOTIONAUTH_VAULT_KEY", "NOTIONAUTH_PASSPHRASE", "NOTIONAUTH_PASSPHRASE_FD", "NOTIONAUTH_STORE"]

    var childEnvironment: [String: String] {
        environment.filter { !Self.withheld.contains($0.key) }
    }

    /// Seconds a key command may take: NOTIONAUTH_KEY_COMMAND_TIMEOUT, else 30.
    func timeout(vaultPath: String) throws(NotionauthError) -> Double {
        guard let setting = timeoutSetting else { return Self.defaultTimeout }
        guard let seconds = Double(setting), seconds > 0, seconds.isFinite else {
            throw .vault(path: vaultPath, reason: "NOTIONAUTH_KEY_COMMAND_TIMEOUT is not a number of seconds above 0")
        }
        return seconds
    }

    /// Runs `command` and decodes the key it prints. `origin` says where the command came
    /// from, for errors; they name its program, never print its output.
    func key(from command: KeyCommand, origin: String, vaultPath: String, timeout: Double? = nil) throws(NotionauthError) -> SecureBytes {
        let limit = if let timeout { timeout } else { try self.timeout(vaultPath: vaultPath) }
        let described = "\(origin) (\(command.program))"
        var finished: HelperProcess.Finished
        do {
            finished = try HelperProcess.run(command.words, environment: childEnvironment, input: stdinIsTerminal ? .inherited : .none, timeout: limit, outputLimit: Self.outputLimit, closing: closing)
        } catch {
            throw .vault(path: vaultPath, reason: "\(described) cannot be run: \(error.reason)")
        }
        defer { for i in finished.output.indices { finished.output[i] = 0 } }
        if let problem = finished.ending.problem(timeout: limit, outputLimit: Self.outputLimit) {
            let hint = finished.ending == .timedOut ? "; NOTIONAUTH_KEY_COMMAND_TIMEOUT sets how long it may take" : ""
            throw .vault(path: vaultPath, reason: "\(described) \(problem)\(hint)")
        }
        guard finished.output.contains(where: { ![32, 9, 13, 10].contains($0) }) else {
            throw .vault(path: vaultPath, reason: "\(described) printed nothing")
        }
        guard let key = Sodium.base64DecodeKey(finished.output, count: Sodium.keyBytes) else {
            throw .vault(path: vaultPath, reason: "\(described) printed something that is not a key; it must print the key as NOTIONAUTH_VAULT_KEY holds it, standard base64 of 32 bytes")
        }
        return key
    }

    /// Runs a helper with the runner's environment, for the keyring's own calls.
    func run(_ words: [String], input: HelperProcess.Input, timeout: Double) throws(HelperProcess.Failure) -> HelperProcess.Finished {
        try HelperProcess.run(words, environment: childEnvironment, input: input, timeout: timeout, outputLimit: Self.outputLimit, closing: closing)
    }
}
