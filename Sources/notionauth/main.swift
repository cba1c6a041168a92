import Dispatch
import NotionAuthKit

#if canImport(Glibc)
import Glibc
#endif

// A closed pipe (`notionauth export | head -0`) must end us with an error, not a signal.
signal(SIGPIPE, SIG_IGN)

// Not an async top-level: that would end the main thread through dispatch_main and
// pthread_exit, whose unwinding sorts every unwind table of the static binary first
// (~27 ms at every start). The main thread waits for the command and exits itself;
// the task is detached because top-level code is main-actor isolated, and the main
// actor never runs while its thread waits.
final class Outcome: @unchecked Sendable {
    // @unchecked: written once by the task before `done` is signalled, read after.
    var status: Int32 = 1
    let done = DispatchSemaphore(value: 0)
}
let outcome = Outcome()
let arguments = Array(CommandLine.arguments.dropFirst())
Task.detached {
    outcome.status = await Runner.run(arguments, context: .process())
    outcome.done.signal()
}
outcome.done.wait()
exit(outcome.status)
