#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A short-lived helper program that notionauth runs for a key (a key command, `secret-tool`):
/// no shell, its standard output captured up to a limit, its standard error ours, so that its
/// own prompts and messages reach the person, and a deadline after which it is stopped.
public enum HelperProcess {
    public enum Input: Sendable {
        /// /dev/null: the helper never consumes what was piped to notionauth, nor waits for
        /// input that will not come.
        case none
        /// Our own standard input, a terminal the helper may prompt on.
        case inherited
        /// These bytes on a pipe, then end of file (the secret for `secret-tool store`).
        case bytes([UInt8])
    }

    public enum Ending: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)
        /// Still running at the deadline, and stopped.
        case timedOut
        /// Printed more than the limit, and stopped.
        case tooMuchOutput

        /// What went wrong, to follow the helper's name in a message; nil for success.
        public func problem(timeout: Double, outputLimit: Int) -> String? {
            switch self {
            case .exited(0): nil
            case let .exited(status): "failed with exit status \(status)"
            case let .signalled(signal): "was ended by signal \(signal)"
            case .timedOut: "did not finish within \(timeout == timeout.rounded() ? String(Int(timeout)) : String(timeout)) s and was stopped"
            case .tooMuchOutput: "printed more than \(outputLimit) bytes"
            }
        }
    }

    public struct Finished {
        public var ending: Ending
        /// What it printed; the caller zeroes it (it may be a key).
        public var output: [UInt8]
    }

    /// Why a helper could not be started at all.
    public struct Failure: Error {
        public var reason: String
    }

    /// Runs `words` (the program found in the PATH of `environment`, as `run` finds it) and
    /// waits for it, at most `timeout` seconds.
    ///
    /// Without a controlling terminal the helper gets a process group of its own, stopped
    /// whole at the deadline (a shell script's children too). With one it stays in ours: a
    /// helper that prompts on the terminal (`op`, a hardware token's PIN) must be in the
    /// foreground group to read it, and Ctrl-C then reaches it as it reaches us.
    ///
    /// Output is read until the helper exits, not until end of file: a daemon it leaves
    /// behind (an agent) may hold the pipe open for hours.
    public static func run(_ words: [String], environment: [String: String], input: Input, timeout: Double, outputLimit: Int, closing: [Int32] = []) throws(Failure) -> Finished {
        precondition(!words.isEmpty)
        guard let program = locate(words[0], path: environment["PATH"] ?? "/usr/bin:/bin") else {
            throw Failure(reason: "\(words[0]) is not in PATH")
        }
        let output = try makePipe()
        var feed: (read: Int32, write: Int32) = (-1, -1)
        if case .bytes = input {
            do {
                feed = try makePipe()
            } catch {
                close(output.read)
                close(output.write)
                throw error
            }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        switch input {
        case .none: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .inherited: break
        case .bytes: posix_spawn_file_actions_adddup2(&actions, feed.read, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, output.write, 1)
        for fd in closing where fd > 2 && fcntl(fd, F_GETFD) != -1 { posix_spawn_file_actions_addclose(&actions, fd) }

        // Whatever we block (a vault write defers SIGINT and SIGTERM) or ignore (SIGPIPE) is
        // not the helper's business.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var unblocked = sigset_t(), defaults = sigset_t()
        sigemptyset(&unblocked)
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        let ownGroup = !hasControllingTerminal()
        if ownGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = words.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        close(output.write)
        if feed.read >= 0 { close(feed.read) }
        guard spawned == 0 else {
            close(output.read)
            if feed.write >= 0 { close(feed.write) }
            throw Failure(reason: String(cString: strerror(spawned)))
        }
        if case let .bytes(bytes) = input {
            // Far less than a pipe holds, so this never waits for the helper; a helper that
            // exits without reading it gives EPIPE, and its status says what went wrong.
            try? FileSystem.writeAll(feed.write, bytes, path: "")
            close(feed.write)
        }

        let reader = output.read
        defer { close(reader) }
        _ = fcntl(reader, F_SETFL, fcntl(reader, F_GETFL) | O_NONBLOCK)
        // Allocated once: a growing array would leave copies of a key behind in freed memory.
        var buffer = [UInt8](repeating: 0, count: outputLimit + 1)
        var filled = 0
        let deadline = monotonicSeconds() + timeout
        var status: Int32 = 0
        var ending: Ending?
        var endOfFile = false
        var pause = 1
        while ending == nil {
            let exited = waitpid(pid, &status, WNOHANG) == pid
            while !endOfFile && filled <= outputLimit {
                let n = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress! + filled, $0.count - filled) }
                if n > 0 {
                    filled += n
                } else if n == 0 {
                    endOfFile = true
                } else if errno != EINTR {
                    break
                }
            }
            if filled > outputLimit {
                ending = .tooMuchOutput
            } else if exited {
                ending = status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
                break
            } else if monotonicSeconds() >= deadline {
                ending = .timedOut
            } else if endOfFile {
                // Its output has ended and its exit is a moment away.
                let milliseconds = Int32(min(Double(pause), (deadline - monotonicSeconds()) * 1000 + 1))
                _ = poll(nil, 0, milliseconds)
                pause = min(pause * 2, 50)
            } else {
                var readable = pollfd(fd: reader, events: Int16(POLLIN), revents: 0)
                _ = poll(&readable, 1, Int32(min(50, (deadline - monotonicSeconds()) * 1000 + 1)))
            }
        }
        if ending == .timedOut || ending == .tooMuchOutput {
            stop(pid, group: ownGroup)
        }
        buffer.withUnsafeMutableBytes { _ = memset($0.baseAddress! + min(filled, outputLimit), 0, $0.count - min(filled, outputLimit)) }
        buffer.removeLast(buffer.count - min(filled, outputLimit))
        return Finished(ending: ending!, output: buffer)
    }

    /// SIGTERM, a moment to exit, then SIGKILL for it and anything left in its group, and the
    /// helper reaped. The group is signalled before the leader is reaped, while its number
    /// cannot have been given to another.
    private static func stop(_ pid: pid_t, group: Bool) {
        let target = group ? -pid : pid
        kill(target, SIGTERM)
        let grace = monotonicSeconds() + 0.5
        while monotonicSeconds() < grace && !hasExited(pid) {
            _ = poll(nil, 0, 5)
        }
        kill(target, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// Whether `pid` has exited, leaving it to be reaped.
    private static func hasExited(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return true }
        return info.si_signo == SIGCHLD
    }

    /// A pipe whose ends are above 2 and close-on-exec (the helper gets its end by dup2, which
    /// clears that; an end that was itself 0, 1 or 2 would be dup2'ed onto itself and stay
    /// close-on-exec).
    private static func makePipe() throws(Failure) -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw Failure(reason: "pipe: \(FileSystem.lastError())") }
        let moved = ends.map { fcntl($0, F_DUPFD_CLOEXEC, 3) }
        let failure = errno
        ends.forEach { close($0) }
        guard moved.allSatisfy({ $0 >= 0 }) else {
            moved.filter { $0 >= 0 }.forEach { close($0) }
            throw Failure(reason: "pipe: \(String(cString: strerror(failure)))")
        }
        return (moved[0], moved[1])
    }

    /// `program` itself when it names a path; else the first executable of that name in the
    /// directories of `path`, never the current directory (an empty entry is skipped).
    public static func locate(_ program: String, path: String) -> String? {
        if program.contains("/") { return program }
        return path.split(separator: ":").map { "\($0)/\(program)" }.first { access($0, X_OK) == 0 }
    }

    static func hasControllingTerminal() -> Bool {
        let fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
