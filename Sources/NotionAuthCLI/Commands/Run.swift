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
    /// Nil: the provider's default (`use`, NOTIONAUTH_CONNECTION, else `default`).
    public var connection: String?
    public var command: [String] = []
    public var allowNested = false
    /// Whether the child's output has the tokens replaced by `****`; nil: as
    /// NOTIONAUTH_RUN_MASK says.
    public var mask: Bool?
    /// Whether the child gets a proxy that adds the tokens instead of the tokens; nil: as
    /// NOTIONAUTH_RUN_PROXY says.
    public var proxy: Bool?
}

/// `notionauth run [PROVIDER…] [--connection NAME] -- COMMAND [ARGS…]`, like `aws-vault exec`:
/// the child gets the tokens in its environment, its exit status is ours, and signals that
/// would stop us are passed on to it.
struct RunCommand: CommandDefinition {
    static let allowNested = CommandSpec.Option("allow-nested", "run even inside another notionauth run")
    static let mask = CommandSpec.Option("mask", "replace the tokens with **** in the command's output (default: $NOTIONAUTH_RUN_MASK)")
    static let noMask = CommandSpec.Option("no-mask", "do not, even if NOTIONAUTH_RUN_MASK is set")
    static let proxy = CommandSpec.Option("proxy", "give the command a proxy that adds the tokens, not the tokens (default: $NOTIONAUTH_RUN_PROXY)")
    static let noProxy = CommandSpec.Option("no-proxy", "do not, even if NOTIONAUTH_RUN_PROXY is set")
    static let spec = CommandSpec(
        name: "run", synopsis: "run [PROVIDER…] [--connection NAME] [--allow-nested] [--proxy | --no-proxy] [--mask | --no-mask] -- COMMAND [ARGS…]",
        summary: "run a command with the providers' tokens in its environment, or behind a proxy that adds them",
        options: [CommandSpec.connection, allowNested, proxy, noProxy, mask, noMask],
        minPositionals: 0, maxPositionals: 64,
        details: """
        COMMAND runs directly (no shell) with the variables `export` would print, refreshed when
        about to expire. Its exit status is notionauth's; Ctrl-C and SIGTERM are passed to it.

        With --proxy (or NOTIONAUTH_RUN_PROXY=1) the command never holds a token: its variables
        say notionauth-proxy-managed, and HTTPS_PROXY points at a proxy on 127.0.0.1, for this
        run only, that adds the token to its requests to the provider's API (through a CA made
        for the run, which the command trusts through SSL_CERT_FILE and the like). Other hosts
        are tunnelled untouched.

        With --mask (or NOTIONAUTH_RUN_MASK=1, for CI logs) every token the command gets is
        replaced by **** in its standard output and error, even when written in pieces; its
        output then goes through pipes, not the terminal. Other bytes pass unchanged.

        Examples:
          notionauth run notion -- python sync.py
          notionauth run --proxy notion -- python sync.py
          NOTIONAUTH_RUN_MASK=1 notionauth run notion -- ./deploy.sh
        """,
        operands: .providers, takesCommandAfterDoubleDash: true)

    let options: RunOptions

    init(_ arguments: ParsedArguments) throws(NotionauthError) {
        var options = RunOptions()
        options.providers = arguments.positionals
        options.connection = try arguments.connection()
        options.allowNested = arguments.flag(Self.allowNested)
        options.mask = try Self.choice(arguments, Self.mask, Self.noMask)
        options.proxy = try Self.choice(arguments, Self.proxy, Self.noProxy)
        guard let command = arguments.afterDoubleDash, !command.isEmpty else {
            throw .usage("run needs a command after --, as in `notionauth run notion -- ./sync.sh`", command: Self.spec.name)
        }
        options.command = command
        self.options = options
    }

    /// `--X` true, `--no-X` false, neither nil (the environment decides), both an error.
    private static func choice(_ arguments: ParsedArguments, _ on: CommandSpec.Option, _ off: CommandSpec.Option) throws(NotionauthError) -> Bool? {
        switch (arguments.flag(on), arguments.flag(off)) {
        case (true, true): throw .usage("--\(on.name) and --\(off.name) contradict each other; give one", command: Self.spec.name)
        case (true, false): true
        case (false, true): false
        case (false, false): nil
        }
    }

    func run(session: Session) throws(NotionauthError) -> ExitStatus {
        try Self.run(options, session: session)
    }

    /// Set in the child's environment, so a nested run can be noticed.
    static let marker = "NOTIONAUTH_RUN"

    /// Whether a default such as NOTIONAUTH_RUN_MASK is on. Off when unset, empty or a plain
    /// "no" ("0", "false", "no", "off"); any other value turns it on, so that a value we do not
    /// recognise errs on the side of hiding the tokens.
    static func enabled(_ variable: String, in environment: [String: String]) -> Bool {
        let value = (environment[variable] ?? "").lowercased()
        return !["", "0", "false", "no", "off"].contains(value)
    }

    static func run(_ options: RunOptions, session: Session) throws(NotionauthError) -> ExitStatus {
        if let outer = session.context.environment[marker], !outer.isEmpty, !options.allowNested {
            throw .usage("already inside `notionauth run` (\(marker)=\(outer)); add --allow-nested to run anyway", command: Self.spec.name)
        }
        let proxied = options.proxy ?? enabled("NOTIONAUTH_RUN_PROXY", in: session.context.environment)
        if proxied, session.context.proxyStarter == nil {
            // Before anything is read: notionauth-proxy does all of it again.
            try session.context.handOffToProxy?()
            throw .failure("this notionauth has no proxy; run --proxy needs notionauth-proxy beside it")
        }
        let grants = try ExportCommand.grants(providers: options.providers.isEmpty ? nil : options.providers, connection: options.connection, session: session)
        var variables = grants.flatMap { grant in grant.provider.exportAccessToken.map { ($0, grant.connection.accessToken) } }
        var running: (any RunProxy.Running)?
        if proxied, let start = session.context.proxyStarter {
            running = try start(grants, session.broker)
            variables = variables.map { ($0.0, RunProxy.placeholder) }
        }
        defer { running?.stop() }
        var environment = session.context.environment
        // The child gets access tokens only: nothing that opens the vault or is a client secret,
        // nor the shared store's URL (it may carry the database's password).
        var withheld = ["NOTIONAUTH_VAULT_KEY", "NOTIONAUTH_KEY_COMMAND", "NOTIONAUTH_PASSPHRASE", "NOTIONAUTH_PASSPHRASE_FD", "NOTIONAUTH_STORE"]
        // Each provider on its own, so one broken definition cannot shield the others' secrets.
        for name in session.providers.names() {
            if let secret = (try? session.providers.resolve(name: name))?.definition.clientSecretEnvironment { withheld.append(secret) }
            if let bundled = try? session.providers.resolveBundled(name: name), let secret = bundled.definition.clientSecretEnvironment { withheld.append(secret) }
        }
        for name in withheld { environment.removeValue(forKey: name) }
        for (name, value) in variables { environment[name] = value }
        for (name, value) in running?.childEnvironment ?? [:] { environment[name] = value }
        environment[marker] = options.providers.isEmpty ? "all" : options.providers.joined(separator: ",")
        // The passphrase descriptor was for us; the standard streams are the child's own (a
        // passphrase piped on stdin has been read to its end).
        let passphraseFD = session.context.environment["NOTIONAUTH_PASSPHRASE_FD"].flatMap { Int32($0) }.flatMap { $0 > 2 ? $0 : nil }
        // Every value handed to the child is an access token, or the proxy's credential.
        let secrets = variables.map(\.1).filter { $0 != RunProxy.placeholder } + (running?.secrets ?? [])
        let masking = (options.mask ?? enabled("NOTIONAUTH_RUN_MASK", in: session.context.environment)) ? secrets.map { Array($0.utf8) } : []
        let status = try spawnAndWait(options.command, environment: environment, closing: passphraseFD.map { [$0] } ?? [], masking: masking)
        return .childStatus(status)
    }

    /// Runs `command` (found in PATH, no shell) and returns the status to exit with:
    /// its own, or 128 + the signal that ended it, as shells report it. The child does
    /// not inherit the descriptors in `closing`. Its standard output and error are ours,
    /// unless there are secrets in `masking` (see `OutputMask` for those ignored as too
    /// short): then they are pipes that we copy to ours with each secret replaced by `****`.
    static func spawnAndWait(_ command: [String], environment: [String: String], closing: [Int32] = [], masking: [[UInt8]] = []) throws(NotionauthError) -> Int32 {
        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        // The PATH searched is the one the child gets, as `env` does; never the current
        // directory unless the command names a path.
        guard let program = HelperProcess.locate(command[0], path: environment["PATH"] ?? "/usr/bin:/bin") else {
            throw .failure("cannot run \(command[0]): not found in PATH")
        }
        let mask = OutputMask(secrets: masking)
        var output = mask.isEmpty ? nil : try MaskedOutput(mask)
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
        output?.attach(to: &actions)
        let result = ProcessHardening.withStartingCoreLimit {
            posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        }
        if result == 0 { Interrupts.forward(to: pid) }
        sigprocmask(SIG_SETMASK, &open, nil)
        guard result == 0 else {
            output?.closeAll()
            throw .failure("cannot run \(command[0]): \(String(cString: strerror(result)))")
        }
        defer { Interrupts.forward(to: 0) }
        var status: Int32 = 0
        if var output {
            // Only the child may hold the write ends, or the pipes would never end.
            output.closeWriteEnds()
            status = try output.copy(until: pid, command: command[0])
        } else {
            while waitpid(pid, &status, 0) < 0 {
                if errno != EINTR { throw .failure("waiting for \(command[0]): \(String(cString: strerror(errno)))") }
            }
        }
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }
}
