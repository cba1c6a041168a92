import NotionAuthCore
import NotionAuthLogin
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps the secrets notionauth holds in memory out of core files: a crash (or a
/// SIGQUIT/SIGABRT sent to it) must not write tokens and client secrets to disk.
public enum ProcessHardening {
    /// Not dumpable (no core whatever the core pattern, even a pipe, and no ptrace by
    /// other processes of the same user) and a core limit of 0: three system calls, so
    /// `get`'s start-up does not change. The hard limit is lowered too, except for `run`:
    /// lowering it is one-way for an unprivileged process, and `run` gives its child the
    /// user's own limit back (`withStartingCoreLimit`).
    public static func apply(arguments: [String]) {
        #if os(Linux)
        _ = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        #endif
        var limit = rlimit()
        guard getrlimit(resourceCore, &limit) == 0 else { return }
        originalCoreLimit = limit
        let keepsHardLimit = runsAChild(arguments)
        var lowered = rlimit(rlim_cur: 0, rlim_max: keepsHardLimit ? limit.rlim_max : 0)
        setrlimit(resourceCore, &lowered)
    }

    /// Runs `spawn` with the core limit notionauth started with, for `run`'s child, and
    /// lowers it again. posix_spawn has no attribute for limits and copies ours, so ours is
    /// the user's for the instant of the spawn: a crash then still writes no core, as we
    /// are not dumpable. (For `run` the hard limit was left alone, so an unprivileged
    /// process can raise the soft one back.)
    static func withStartingCoreLimit<T>(_ spawn: () -> T) -> T {
        guard var starting = originalCoreLimit else { return spawn() }
        var lowered = rlimit()
        getrlimit(resourceCore, &lowered)
        setrlimit(resourceCore, &starting)
        defer { setrlimit(resourceCore, &lowered) }
        return spawn()
    }

    /// Whether the command line is `run`, parsed exactly as the command itself will be
    /// (only when the word is there at all, so other commands pay nothing).
    static func runsAChild(_ arguments: [String]) -> Bool {
        guard arguments.contains(RunCommand.spec.name), let invocation = try? ArgumentParser.parse(arguments), invocation.command is RunCommand else { return false }
        return true
    }
}

nonisolated(unsafe) private var originalCoreLimit: rlimit?

#if os(Linux)
private let resourceCore = __rlimit_resource_t(RLIMIT_CORE.rawValue)
/// <sys/prctl.h> is not in Swift's Glibc module, and prctl(2) is variadic, which Swift does
/// not import: declared here with its five integer arguments, which every Linux ABI Swift
/// runs on passes in the same registers for a variadic call.
private let PR_SET_DUMPABLE: Int32 = 4
@_silgen_name("prctl")
private func prctl(_ option: Int32, _ arg2: UInt, _ arg3: UInt, _ arg4: UInt, _ arg5: UInt) -> Int32
#else
private let resourceCore = RLIMIT_CORE
#endif
