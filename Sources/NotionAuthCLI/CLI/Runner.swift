import NotionAuthCore
import NotionAuthLogin
/// Parses, runs one command and turns any error into its message and exit status.
public enum Runner {
    public static func run(_ arguments: [String], context: Context) -> Int32 {
        var global = GlobalOptions()
        do throws(NotionauthError) {
            let invocation = try ArgumentParser.parse(arguments)
            global = invocation.global
            let session = Session(context: context, global: invocation.global)
            let status = try dispatch(invocation.command, session: session)
            if context.stdout.readerClosed {
                // As if SIGPIPE had ended us (which we ignore so that writes can be checked).
                return ExitStatus.readerClosed.rawValue
            }
            if context.stdout.failed {
                throw .io(path: "standard output", reason: "cannot write; the output is incomplete")
            }
            return status.rawValue
        } catch {
            report(error, context: context, global: global, arguments: arguments)
            return error.exitStatus.rawValue
        }
    }

    static func dispatch(_ command: Command, session: Session) throws(NotionauthError) -> ExitStatus {
        switch command {
        case let .help(topic):
            session.output(topic.flatMap(CommandSpec.named)?.helpText ?? CommandSpec.mainHelp)
            return .success
        case .version:
            session.output("notionauth \(Version.current)\n")
            return .success
        case let .login(options): return try LoginCommand.run(options, session: session)
        case let .get(options): return try GetCommand.run(options, session: session)
        case let .export(options): return try ExportCommand.run(options, session: session)
        case let .inspect(provider): return try InspectCommand.run(provider: provider, session: session)
        case .list: return try ListCommand.run(session: session)
        case let .vault(action): return try VaultCommand.run(action, session: session)
        case let .status(options): return try StatusCommand.run(options, session: session)
        case let .logout(options): return try LogoutCommand.run(options, session: session)
        case let .run(options): return try RunCommand.run(options, session: session)
        case let .api(options): return try APICommand.run(options, session: session)
        case let .completion(shell): return try CompletionCommand.script(for: shell, session: session)
        case let .complete(words): return try CompletionCommand.complete(words, session: session)
        }
    }

    /// `error: …` on stderr, or `{"error":{…}}` there under --json.
    static func report(_ error: NotionauthError, context: Context, global: GlobalOptions, arguments: [String]) {
        // --json may not have been parsed if parsing itself failed.
        if global.json || arguments.prefix(while: { $0 != "--" }).contains("--json") {
            let object: JSONValue = .object(["error": .object([
                "code": .string(error.code),
                "exit_status": .int(Int64(error.exitStatus.rawValue)),
                "message": .string(error.description),
            ]), "version": .int(1)])
            context.stderr.write(object.encoded() + "\n")
        } else {
            let style = Style.forStderr(context: context, global: global)
            context.stderr.write("\(style.red("error:")) \(TerminalText.sanitize(error.description, keepingNewlines: true))\n")
        }
    }
}
