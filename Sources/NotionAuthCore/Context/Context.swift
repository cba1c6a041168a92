import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every side effect a command may have, in one value: tests build their own.
public struct Context: Sendable {
    public var environment: [String: String]
    public var stdout: OutputSink
    public var stderr: OutputSink
    /// Reads all of standard input (a piped token, a client secret).
    public var readStandardInput: @Sendable () -> [UInt8]
    public var stdinIsTerminal: Bool
    public var stdoutIsTerminal: Bool
    public var stderrIsTerminal: Bool
    /// Reads a line from the controlling terminal without echo; nil when there is none.
    public var promptSecret: @Sendable (_ prompt: String) -> [UInt8]?
    /// Opens the controlling terminal to read lines from while something else is awaited
    /// too (a login's pasted address); nil when there is none, as in tests unless they
    /// give one.
    public var openTerminal: @Sendable () -> TerminalLines? = { nil }
    /// Unix time in seconds.
    public var now: @Sendable () -> Int64
    public var http: HTTPTransport
    /// Opens a URL in the user's browser; false when it could not.
    public var openBrowser: @Sendable (_ url: String) -> Bool
    /// Stores other than the file vault, by URL scheme (`--store`); none unless the
    /// executable installs them.
    public var storeOpeners = StoreOpeners()
    /// The proxy for `run --proxy`, in the executable that links it (`notionauth-proxy`)…
    public var proxyStarter: RunProxy.Starter?
    /// …and elsewhere what replaces this process by that executable, run with the same
    /// arguments; it returns only if it could not.
    public var handOffToProxy: (@Sendable () throws(NotionauthError) -> Void)?

    public init(
        environment: [String: String], stdout: OutputSink, stderr: OutputSink,
        readStandardInput: @escaping @Sendable () -> [UInt8],
        stdinIsTerminal: Bool, stdoutIsTerminal: Bool, stderrIsTerminal: Bool,
        promptSecret: @escaping @Sendable (String) -> [UInt8]?,
        now: @escaping @Sendable () -> Int64,
        http: HTTPTransport,
        openBrowser: @escaping @Sendable (String) -> Bool
    ) {
        self.environment = environment
        self.stdout = stdout
        self.stderr = stderr
        self.readStandardInput = readStandardInput
        self.stdinIsTerminal = stdinIsTerminal
        self.stdoutIsTerminal = stdoutIsTerminal
        self.stderrIsTerminal = stderrIsTerminal
        self.promptSecret = promptSecret
        self.now = now
        self.http = http
        self.openBrowser = openBrowser
    }

    /// The real process: file descriptors 0–2, the environment, the system clock.
    public static func process() -> Context {
        let environment = ProcessEnvironment.current()
        var context = Context(
            environment: environment,
            stdout: OutputSink(fileDescriptor: 1),
            stderr: OutputSink(fileDescriptor: 2),
            readStandardInput: { ProcessEnvironment.readAll(fileDescriptor: 0) },
            stdinIsTerminal: isatty(0) == 1,
            stdoutIsTerminal: isatty(1) == 1,
            stderrIsTerminal: isatty(2) == 1,
            promptSecret: { TerminalPrompt.readSecret(prompt: $0) },
            now: { Int64(time(nil)) },
            http: AsyncHTTPTransport(extraRootsFile: environment["NOTIONAUTH_CA_FILE"]),
            openBrowser: { BrowserOpener.open($0) })
        context.openTerminal = { TerminalLines.controllingTerminal() }
        return context
    }

    /// Prompts are allowed only on a terminal, and never when NOTIONAUTH_NO_PROMPT is set.
    public var mayPrompt: Bool {
        stdinIsTerminal && (environment["NOTIONAUTH_NO_PROMPT"] ?? "").isEmpty
    }
}

/// Where a command writes text: a file descriptor, or a buffer in tests.
public final class OutputSink: @unchecked Sendable {
    // @unchecked: `buffer` is guarded by `lock`.
    private let fileDescriptor: Int32?
    private let lock = NIOLock()
    private var buffer: [UInt8] = []
    private var failedWrite = false
    private var readerGone = false

    public init(fileDescriptor: Int32) { self.fileDescriptor = fileDescriptor }

    /// Whether a write failed: what a script captures would be incomplete.
    public var failed: Bool { lock.withLock { failedWrite } }

    /// Whether it failed because the reader closed the pipe (`notionauth list | head -1`):
    /// a reader that stops early is normal, not an error to report.
    public var readerClosed: Bool { lock.withLock { readerGone } }

    /// A sink that keeps what is written, for tests.
    public init() { self.fileDescriptor = nil }

    public func write(_ text: String) {
        let bytes = Array(text.utf8)
        if let fileDescriptor {
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { systemWrite(fileDescriptor, $0.baseAddress! + written, $0.count - written) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    let closed = n < 0 && errno == EPIPE
                    lock.withLock {
                        failedWrite = true
                        readerGone = readerGone || closed
                    }
                    return
                }
                written += n
            }
        } else {
            lock.withLock { buffer += bytes }
        }
    }

    public var text: String { lock.withLock { String(decoding: buffer, as: UTF8.self) } }
}

enum ProcessEnvironment {
    static func current() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }

    static func readAll(fileDescriptor: Int32) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            result += chunk[0..<n]
        }
        return result
    }
}

/// A no-echo prompt on the controlling terminal (/dev/tty), so secrets are never echoed or
/// taken from argv.
enum TerminalPrompt {
    static func readSecret(prompt: String) -> [UInt8]? {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var original = termios()
        guard tcgetattr(fd, &original) == 0 else { return nil }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        silent.c_lflag |= tcflag_t(ICANON)
        _ = Array(prompt.utf8).withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        savedTerminal = (fd, original)
        guard tcsetattr(fd, TCSAFLUSH, &silent) == 0 else { return nil }
        defer {
            tcsetattr(fd, TCSAFLUSH, &original)
            savedTerminal = nil
            _ = write(fd, "\n", 1)
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || byte == 10 { break }
            line.append(byte)
        }
        if line.last == 13 { line.removeLast() }
        return line
    }
}

/// `write(2)`, named apart from `OutputSink.write`.
func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
