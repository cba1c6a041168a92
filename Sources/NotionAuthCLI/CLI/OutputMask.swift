import NotionAuthCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces every occurrence of a secret in one output stream with `****`, however the
/// stream is cut into writes. Bytes, not text: binary output passes unchanged except where
/// a secret was.
///
/// It holds back only the longest tail of what it was given that could still become a
/// secret, and lets everything before it through at once, so output that does not begin a
/// secret (a prompt) is never delayed.
struct OutputMask {
    static let replacement = Array("****".utf8)
    /// Shorter values are left alone: a value of one or two bytes would mask ordinary text
    /// everywhere, and the values masked are tokens and passwords, tens of bytes long.
    static let minimumLength = 4

    /// Longest first, so that the first full match at a position is the longest one.
    let secrets: [[UInt8]]
    /// Whether a secret starts with this byte: most bytes are let through on this test alone.
    private let starts: [Bool]
    /// The tail that is a proper prefix of some secret, waiting for the bytes that decide.
    private var held: [UInt8] = []

    init(secrets: [[UInt8]]) {
        var unique: [[UInt8]] = []
        for secret in secrets where secret.count >= Self.minimumLength && !unique.contains(secret) { unique.append(secret) }
        self.secrets = unique.sorted { $0.count > $1.count }
        var starts = [Bool](repeating: false, count: 256)
        for secret in self.secrets { starts[Int(secret[0])] = true }
        self.starts = starts
    }

    /// Whether there is nothing to mask, so the output need not pass through us at all.
    var isEmpty: Bool { secrets.isEmpty }

    /// What can be written now of everything fed so far.
    mutating func feed<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        held.append(contentsOf: bytes)
        return scan(atEnd: false)
    }

    /// The rest, at the end of the stream: a held prefix that never became a secret is
    /// written as it is.
    mutating func finish() -> [UInt8] {
        scan(atEnd: true)
    }

    private mutating func scan(atEnd: Bool) -> [UInt8] {
        let buffer = held
        var output: [UInt8] = []
        output.reserveCapacity(buffer.count)
        var copiedUpTo = 0, position = 0
        while position < buffer.count {
            guard starts[Int(buffer[position])] else {
                position += 1
                continue
            }
            let remaining = buffer.count - position
            var matched = 0
            for secret in secrets {
                if secret.count > remaining {
                    // A longer secret may still complete here, and the longest match wins:
                    // wait for more, even if a shorter one already matches.
                    if !atEnd, buffer[position...].elementsEqual(secret[..<remaining]) {
                        output += buffer[copiedUpTo..<position]
                        held = Array(buffer[position...])
                        return output
                    }
                } else if buffer[position..<position + secret.count].elementsEqual(secret) {
                    matched = secret.count
                    break
                }
            }
            if matched == 0 {
                position += 1
                continue
            }
            output += buffer[copiedUpTo..<position]
            output += Self.replacement
            position += matched
            copiedUpTo = position
        }
        output += buffer[copiedUpTo...]
        held = []
        return output
    }
}

/// The child's standard output and error as two pipes, copied to ours through an
/// `OutputMask` each.
///
/// Each stream keeps its order; the order of stdout against stderr is that of our reads of
/// two pipes, which can differ from the order of the child's writes when both come at once.
/// The child sees pipes, not a terminal (`isatty` is false, colours and line buffering may
/// change). Standard input is not touched.
struct MaskedOutput {
    /// Our read ends, stdout's then stderr's; -1 once closed.
    private var readEnds: [Int32] = []
    /// The child's write ends, closed in us once the child has them.
    private var writeEnds: [Int32] = []
    private var masks: [OutputMask]

    /// While the child runs we look at whether it has exited this often; once it has, the
    /// pipes are read until they end or stay silent this long (a background grandchild may
    /// hold them open for ever), and for at most `drainLimitMilliseconds` in all.
    static let exitCheckMilliseconds: Int32 = 100
    static let silenceMilliseconds: Int32 = 200
    static let drainLimitMilliseconds: Int64 = 2_000

    init(_ mask: OutputMask) throws(NotionauthError) {
        masks = [mask, mask]
        for _ in 0..<2 {
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else {
                let reason = String(cString: strerror(errno))
                closeAll()
                throw .failure("cannot make a pipe for the command's output: \(reason)")
            }
            // Both ends moved above 2 and close-on-exec (the child gets its end by dup2, which
            // clears that): an end that was itself 1 or 2, as when we started with those
            // closed, would be dup2'ed onto itself and stay close-on-exec.
            var moved: [Int32] = [], failure: Int32 = 0
            for fd in ends {
                let copy = fcntl(fd, F_DUPFD_CLOEXEC, 3)
                if copy < 0 { failure = errno }
                moved.append(copy)
                close(fd)
            }
            readEnds.append(moved[0])
            writeEnds.append(moved[1])
            if failure != 0 {
                closeAll()
                throw .failure("cannot make a pipe for the command's output: \(String(cString: strerror(failure)))")
            }
        }
    }

    /// Makes the write ends the child's descriptors 1 and 2.
    func attach(to actions: inout posix_spawn_file_actions_t) {
        posix_spawn_file_actions_adddup2(&actions, writeEnds[0], 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnds[1], 2)
    }

    /// Closes our copies of the child's ends, so that the pipes end when the child's do.
    mutating func closeWriteEnds() {
        for fd in writeEnds where fd >= 0 { close(fd) }
        writeEnds = []
    }

    mutating func closeAll() {
        closeWriteEnds()
        for fd in readEnds where fd >= 0 { close(fd) }
        readEnds = []
    }

    /// Copies the pipes to our descriptors 1 and 2 until they end (or the child has exited
    /// and they stay silent) and returns the child's wait status. Signals caught meanwhile
    /// (forwarded to the child) interrupt poll and waitpid; we carry on.
    mutating func copy(until child: pid_t, command: String) throws(NotionauthError) -> Int32 {
        defer { closeAll() }
        var status: Int32 = 0
        var exitedAt: Int64?
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while readEnds.contains(where: { $0 >= 0 }) {
            if exitedAt == nil {
                let reaped = waitpid(child, &status, WNOHANG)
                if reaped == child {
                    exitedAt = Self.milliseconds()
                } else if reaped < 0, errno != EINTR {
                    throw .failure("waiting for \(command): \(String(cString: strerror(errno)))")
                }
            }
            if let exitedAt, Self.milliseconds() - exitedAt > Self.drainLimitMilliseconds { break }
            var polled = readEnds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polled, nfds_t(polled.count), exitedAt == nil ? Self.exitCheckMilliseconds : Self.silenceMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw .failure("reading the output of \(command): \(String(cString: strerror(errno)))")
            }
            if ready == 0 {
                if exitedAt != nil { break }
                continue
            }
            for stream in polled.indices where polled[stream].fd >= 0 && polled[stream].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(readEnds[stream], $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR || errno == EAGAIN { continue }
                if count > 0 {
                    // Only the bytes just read, not the whole buffer: no copy of the rest.
                    let masked = masks[stream].feed(buffer[..<count])
                    if !Self.writeAll(masked, to: Int32(stream + 1)) { endStream(stream, flushing: false) }
                } else {
                    endStream(stream, flushing: true)
                }
            }
        }
        for stream in readEnds.indices where readEnds[stream] >= 0 { endStream(stream, flushing: true) }
        if exitedAt == nil {
            while waitpid(child, &status, 0) < 0 {
                if errno != EINTR { throw .failure("waiting for \(command): \(String(cString: strerror(errno)))") }
            }
        }
        return status
    }

    /// At its end, or when our side of it cannot be written (a reader gone: EPIPE, as we
    /// ignore SIGPIPE). Then our read end is closed rather than read and thrown away, so the
    /// child's next write there fails with SIGPIPE or EPIPE, as it would have writing to our
    /// descriptor itself (`notionauth run --mask -- yes | head -1` ends).
    private mutating func endStream(_ stream: Int, flushing: Bool) {
        if flushing { _ = Self.writeAll(masks[stream].finish(), to: Int32(stream + 1)) }
        close(readEnds[stream])
        readEnds[stream] = -1
    }

    /// Writes everything, through partial writes, EINTR and a non-blocking descriptor;
    /// false when it cannot.
    private static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if count > 0 {
                written += count
            } else if count < 0, errno == EINTR {
                continue
            } else if count < 0, errno == EAGAIN {
                var waiting = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&waiting, 1, -1)
            } else {
                return false
            }
        }
        return true
    }

    private static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
