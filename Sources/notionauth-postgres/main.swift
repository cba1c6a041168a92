import NotionAuthCLI
import NotionAuthCore
import NotionAuthPostgres

#if canImport(Glibc)
import Glibc
#endif

// notionauth with the PostgreSQL store linked in: `notionauth` runs it, with the same
// arguments, when the store is a postgres:// URL (StoreHandOff).
let arguments = Array(CommandLine.arguments.dropFirst())
ProcessHardening.apply(arguments: arguments)
signal(SIGPIPE, SIG_IGN)
Interrupts.install()

var context = Context.process()
context.storeOpeners = PostgresStore.openers
exit(Runner.run(arguments, context: context))
