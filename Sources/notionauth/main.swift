import NotionAuthKit

#if canImport(Glibc)
import Glibc
#endif

// A closed pipe (`notionauth export | head -0`) must end us with an error, not a signal.
signal(SIGPIPE, SIG_IGN)
let status = await Runner.run(Array(CommandLine.arguments.dropFirst()), context: .process())
exit(status)
