import NotionAuthCore
import NotionAuthLogin
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct RunOptions: Equatable, Sendable {
    /// Empty: every provider with the connection.
    public var providers: [String] = []
    public var connection = ConnectionName.defaultName
    public var command: [String] = []
    public var allowNested = false
}

/// `notionauth run [PROVIDER…] [--connection NAME] -- COMMAND [ARGS…]`, like `aws-vault exec`:
/// the child gets the tokens in its environment, its exit status is ours, and signals that
/// would stop us are passed on to it.
struct RunCommand: CommandDefinition {
    static let allowNested = CommandSpec.Option("allow-nested", "run even inside another notionauth run")
    static let spec = CommandSpec(
        name: "run", synopsis: "run [PROVIDER…] [--connection NAME] [--allow-nested] -- COMMAND [ARGS…]",
        summary: "run a command with the providers' tokens in its environment",
        options: [CommandSpec.connection, allowNested],
        minPositionals: 0, maxPositionals: 64,
        details: """
        COMMAND runs directly (no shell) with the variables `export` would print, refreshed when
        about to expire. Its exit status is notionauth's; Ctrl-C and SIGTERM are passed to it.

        Example:
          notionauth run notion -- python sync.py
        """,
        operands: .providers, takesCommandAfterDoubleDash: true)

    let options: RunOptions

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        var options = RunOptions()
        options.providers = arguments.positionals
        options.connection = try arguments.connection()
        options.allowNested = arguments.flag(Self.allowNested)
        guard let command = arguments.afterDoubleDash, !command.isEmpty else {
            throw .usage("run needs a command after --, as in `notionauth run notion -- ./sync.sh`", command: Self.spec.name)
        }
        options.command = command
        self.options = options
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        try Self.run(options, session: session)
    }

    /// Set in the child's environment, so a nested run can be noticed.
    static let marker = "NOTIONAUTH_RUN"

    static func run(_ options: RunOptions, session: Session) throws(NotionauthError) -> ExitStatus {
        if let outer = session.context.environment[marker], !outer.isEmpty, !options.allowNested {
            throw .usage("already inside `notionauth run` (\(marker)=\(outer)); add --allow-nested to run anyway", command: Self.spec.name)
        }
        let variables = try ExportCommand.variables(providers: options.providers.isEmpty ? nil : options.providers, connection: options.connection, session: session)
        var environment = session.context.environment
        // The child gets access tokens only: nothing that opens the vault or is a client secret,
        // nor the shared store's URL (it may carry the database's password).
        var secrets = ["NOTIONAUTH_VAULT_KEY", "NOTIONAUTH_PASSPHRASE", "NOTIONAUTH_PASSPHRASE_FD", "NOTIONAUTH_STORE"]
        // Each provider on its own, so one broken definition cannot shield the others' secrets.
        for name in session.providers.names() {
            if let secret = (try? session.providers.resolve(name: name))?.definition.clientSecretEnvironment { secrets.append(secret) }
            if let bundled = try? session.providers.resolveBundled(name: name), let secret = bundled.definition.clientSecretEnvironment { secrets.append(secret) }
        }
        for name in secrets { environment.removeValue(forKey: name) }
        for (name, value) in variables { environment[name] = value }
        environment[marker] = options.providers.isEmpty ? "all" : options.providers.joined(separator: ",")
        // The passphrase descriptor was for us; the standard streams are the child's own (a
        // passphrase piped on stdin has been read to its end).
        let passphraseFD = session.context.environment["NOTIONAUTH_PASSPHRASE_FD"].flatMap { Int32($0) }.flatMap { $0 > 2 ? $0 : nil }
        let status = try spawnAndWait(options.command, environment: environment, closing: passphraseFD.map { [$0] } ?? [])
        return .childStatus(status)
    }

    /// Runs `command` (found in PATH, no shell) and returns the status to exit with:
    /// its own, or 128 + the signal that ended it, as shells report it. The child does
    /// not inherit the descriptors in `closing`.
    static func spawnAndWait(_ command: [String], environment: [String: String], closing: [Int32] = []) throws(NotionauthError) -> Int32 {
        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        // The PATH searched is the one the child gets, as `env` does; never the current
        // directory unless the command names a path.
        let path = environment["PATH"] ?? "/usr/bin:/bin"
        let found = command[0].contains("/") ? command[0] : path.split(separator: ":").map { "\($0)/\(command[0])" }.first { access($0, X_OK) == 0 }
        guard let program = found else {
            throw .failure("cannot run \(command[0]): not found in PATH")
        }
        // What we forward is held back until the child's pid is known, then let through,
        // even if whoever started us had blocked it (the mask survives exec). The child
        // starts with none of it blocked and default handling of all of it, and of
        // SIGPIPE, which we ignore.
        var held = sigset_t(), given = sigset_t()
        sigemptyset(&held)
        for signal in [SIGINT, SIGTERM] + Interrupts.forwardedByRun { sigaddset(&held, signal) }
        sigprocmask(SIG_BLOCK, &held, &given)
        let forwarded = [SIGINT, SIGTERM] + Interrupts.catchForRun()
        var open = given, defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        for signal in forwarded {
            sigdelset(&open, signal)
            sigaddset(&defaults, signal)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &open)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in closing where fcntl(fd, F_GETFD) != -1 { posix_spawn_file_actions_addclose(&actions, fd) }
        let result = ProcessHardening.withStartingCoreLimit {
            posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        }
        if result == 0 { Interrupts.forward(to: pid) }
        sigprocmask(SIG_SETMASK, &open, nil)
        guard result == 0 else {
            throw .failure("cannot run \(command[0]): \(String(cString: strerror(result)))")
        }
        defer { Interrupts.forward(to: 0) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw .failure("waiting for \(command[0]): \(String(cString: strerror(errno)))") }
        }
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }
}
