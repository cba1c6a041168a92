#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lines typed or pasted on a terminal, for a login that waits on the terminal and the
/// browser at once. It waits in poll(2) beside a pipe of its own, so `cancel()` ends a wait
/// at once from any thread and no thread is left blocked in read(2); it never changes the
/// terminal's settings or blocking mode, so it cannot leave the terminal in a bad state.
public final class TerminalLines: @unchecked Sendable {
    // @unchecked: `pending` and `ended` belong to the one thread that calls `next()`; the
    // descriptors are set once and closed in deinit.
    private let fileDescriptor: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private var pending: [UInt8] = []
    private var ended = false

    /// A line longer than this is handed on as it is, to be refused: a pasted address is a
    /// few hundred bytes, and a terminal's line editor stops at 4,095.
    static let maxLineBytes = 8192

    /// Reads `fileDescriptor` (a terminal, or a pipe in tests), which it owns from now on.
    public init?(fileDescriptor: Int32) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            close(fileDescriptor)
            return nil
        }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        self.fileDescriptor = fileDescriptor
        wakeRead = ends[0]
        wakeWrite = ends[1]
    }

    /// The controlling terminal, apart from standard input (which may carry a piped client
    /// secret); nil when the process has none.
    public static func controllingTerminal() -> TerminalLines? {
        let fd = open("/dev/tty", O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return nil }
        return TerminalLines(fileDescriptor: fd)
    }

    deinit {
        wipe(&pending)
        close(fileDescriptor)
        close(wakeRead)
        close(wakeWrite)
    }

    /// The next line, without its line ending; nil at end of input (Ctrl-D, a hang-up) and
    /// once cancelled.
    public func next() -> [UInt8]? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(pending[..<newline])
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                wipe(&pending[...newline])
                pending.removeSubrange(...newline)
                return line
            }
            if ended || pending.count > Self.maxLineBytes {
                guard !pending.isEmpty else { return nil }
                let line = pending
                pending = []
                return line
            }
            var polled = [pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&polled, 2, -1)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 || polled[1].revents != 0 { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = read(fileDescriptor, &chunk, chunk.count)
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if count <= 0 {
                ended = true
            } else {
                pending += chunk[0..<count]
            }
            wipe(&chunk[...])
        }
    }

    /// Ends a wait in `next()`, now or to come; safe from any thread.
    public func cancel() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    /// Throws away what was typed but not yet read, such as a half-pasted address, so that
    /// the shell reading the terminal next does not run it as a command (and keep it in its
    /// history). Only in the foreground: a background process would be stopped (SIGTTOU).
    public func discardUnread() {
        wipe(&pending)
        pending.removeAll()
        guard isatty(fileDescriptor) == 1, tcgetpgrp(fileDescriptor) == getpgrp() else { return }
        tcflush(fileDescriptor, TCIFLUSH)
    }

    private func wipe(_ bytes: inout ArraySlice<UInt8>) {
        for i in bytes.indices { bytes[i] = 0 }
    }

    private func wipe(_ bytes: inout [UInt8]) {
        for i in bytes.indices { bytes[i] = 0 }
    }
}
