import NotionAuthCore
import NotionAuthLogin

#if canImport(Glibc)
import Glibc
#endif

/// Parses, runs one command and turns any error into its message and exit status.
public enum Runner {
    /// The whole life of a notionauth process (`notionauth`, `notionauth-postgres`,
    /// `notionauth-proxy`): hardened before anything holds a secret, the command run with the
    /// store openers and the proxy the program has, and the process ended with its status.
    ///
    /// Synchronous on purpose: an async top-level would start Swift concurrency and end the
    /// main thread through dispatch_main and pthread_exit, whose unwinding sorts every unwind
    /// table of the static binary first (~27 ms at every start).
    public static func main(storeOpeners: ([String]) -> StoreOpeners, proxyStarter: RunProxy.Starter? = nil) -> Never {
        let arguments = Array(CommandLine.arguments.dropFirst())
        // Before anything holds a secret: no core files of this process.
        ProcessHardening.apply(arguments: arguments)
        // A closed pipe (`notionauth export | head -0`) must end us with an error, not a signal.
        signal(SIGPIPE, SIG_IGN)
        Interrupts.install()
        var context = Context.process()
        context.storeOpeners = storeOpeners(arguments)
        context.proxyStarter = proxyStarter
        if proxyStarter == nil { context.handOffToProxy = ProxyHandOff.handOff(arguments: arguments) }
        exit(run(arguments, context: context))
    }

    public static func run(_ arguments: [String], context: Context) -> Int32 {
        var global = GlobalOptions()
        do throws(NotionauthError) {
            let invocation = try ArgumentParser.parse(arguments)
            global = invocation.global
            let session = Session(context: context, global: invocation.global)
            let status = try invocation.command.run(session: session)
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

    /// Every command, in the order `--help` lists them. Adding a command: its file in
    /// Commands/, a line here, its tests and its man-page section (CONTRIBUTING.md).
    public static let commands: [any CommandDefinition.Type] = [
        LoginCommand.self, GetCommand.self, ExportCommand.self, InspectCommand.self, ListCommand.self,
        StatusCommand.self, UseCommand.self, LogoutCommand.self, RunCommand.self, APICommand.self, MCPCommand.self, VaultCommand.self,
        StoreCommand.self,
        CompletionCommand.self, HelpCommand.self, VersionCommand.self, CompleteCommand.self,
    ]

    static func command(named name: String) -> (any CommandDefinition.Type)? {
        commands.first { $0.spec.name == name }
    }

    /// `error: …` on stderr, or `{"error":{…}}` there under --json.
    public static func report(_ error: NotionauthError, context: Context, global: GlobalOptions = GlobalOptions(), arguments: [String]) {
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
