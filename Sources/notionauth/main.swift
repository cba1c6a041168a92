import NotionAuthCLI
import NotionAuthCore

#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
// Before anything holds a secret: no core files of this process.
ProcessHardening.apply(arguments: arguments)

// A closed pipe (`notionauth export | head -0`) must end us with an error, not a signal.
signal(SIGPIPE, SIG_IGN)
Interrupts.install()

var context = Context.process()
// A postgres:// store runs the command as notionauth-postgres: the driver stays out of here.
context.storeOpeners = StoreHandOff.openers(arguments: arguments)

// Synchronous on purpose: an async top-level would start Swift concurrency and end the
// main thread through dispatch_main and pthread_exit, whose unwinding sorts every unwind
// table of the static binary first (~27 ms at every start).
exit(Runner.run(arguments, context: context))
