#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ctrl-C and SIGTERM end notionauth with status 130 after restoring the terminal (a
/// no-echo prompt may be open). Writes in progress are safe: the vault is replaced by
/// rename, so an interrupted write leaves the previous vault in place.
public enum Interrupts {
    public static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = interrupted
        action.sa_flags = SA_SIGINFO
        sigemptyset(&action.sa_mask)
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        // A parent may have blocked them, and the mask survives exec.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &set, nil)
    }
}

extension Interrupts {
    /// SIGINT and SIGTERM held back until `restore()`, which lets a pending one through.
    struct Deferred {
        fileprivate var previous = sigset_t()

        func restore() {
            var previous = previous
            sigprocmask(SIG_SETMASK, &previous, nil)
        }
    }

    static func deferred() -> Deferred {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        var deferred = Deferred()
        sigprocmask(SIG_BLOCK, &set, &deferred.previous)
        return deferred
    }
}

/// While `run` waits for its child, signals go to the child instead (0: none).
nonisolated(unsafe) var forwardedChild: pid_t = 0

extension Interrupts {
    public static func forward(to child: pid_t) { forwardedChild = child }

    /// What `run` passes on to its child besides SIGINT and SIGTERM. Only `run` catches
    /// them; every other command keeps their default behaviour.
    public static let forwardedByRun: [Int32] = [SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]

    /// Catches `forwardedByRun` for a child about to start and returns the signals caught.
    /// One that notionauth was started ignoring (`nohup`) stays ignored, for us and for
    /// the child, as it would for any program run in our place.
    public static func catchForRun() -> [Int32] {
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = interrupted
        action.sa_flags = SA_SIGINFO
        sigemptyset(&action.sa_mask)
        var caught: [Int32] = []
        for signal in forwardedByRun {
            var current = sigaction()
            sigaction(signal, nil, &current)
            if unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            sigaction(signal, &action, nil)
            caught.append(signal)
        }
        return caught
    }
}

/// The terminal settings to restore if interrupted during a no-echo prompt.
nonisolated(unsafe) var savedTerminal: (fd: Int32, settings: termios)?

private func interrupted(_ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    if forwardedChild > 0 {
        // What the terminal sends (Ctrl-C, Ctrl-\, a resize, a hangup) reaches the whole
        // process group, child included; pass on only what was sent to us alone (kill), or
        // the child would get it twice.
        if info?.pointee.si_code != Int32(SI_KERNEL) { kill(forwardedChild, signal) }
        return
    }
    // One of `run`'s other signals after its child ended: the child's status is ours.
    guard signal == SIGINT || signal == SIGTERM else { return }
    if let saved = savedTerminal {
        var settings = saved.settings
        tcsetattr(saved.fd, TCSANOW, &settings)
        _ = write(saved.fd, "\n", 1)
    }
    _exit(ExitStatus.interrupted.rawValue)
}
