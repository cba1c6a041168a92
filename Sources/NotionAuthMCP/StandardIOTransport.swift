import Foundation
import Logging
import MCP
import NotionAuthCore

#if canImport(Glibc)
import Glibc
#endif

/// MCP's stdio transport: one JSON-RPC message per line on standard input and output.
///
/// Written here rather than taken from the SDK because the SDK's StdioTransport sets
/// O_NONBLOCK on both descriptors (which it shares with the parent, a terminal or another
/// program) and polls them every 10 ms, which added about 5 ms to every call and woke the
/// idle server 100 times a second. Here a thread of its own blocks in read(2), and writes
/// block until the client has taken the bytes.
actor StandardIOTransport: Transport {
    /// A line longer than this is not a message we can act on; the client is told nothing
    /// more and the session ends, rather than memory growing without bound.
    static let maxMessageBytes = 16 << 20

    nonisolated let logger: Logger
    private let input: Int32
    private let output: Int32
    private let messages: AsyncThrowingStream<Data, Swift.Error>
    private let continuation: AsyncThrowingStream<Data, Swift.Error>.Continuation
    private var started = false

    init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO, logger: Logger) {
        self.input = input
        self.output = output
        self.logger = logger
        (messages, continuation) = AsyncThrowingStream.makeStream()
    }

    func connect() async throws {
        guard !started else { return }
        started = true
        let reader = Thread { [input, continuation, logger] in
            Self.readLines(from: input, into: continuation, logger: logger)
        }
        reader.name = "mcp-stdin"
        reader.start()
    }

    func disconnect() async {
        continuation.finish()
    }

    func send(_ message: Data) async throws {
        var bytes = [UInt8](message)
        bytes.append(UInt8(ascii: "\n"))
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(output, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw MCPError.transportError(NotionauthError.io(path: "standard output", reason: String(cString: strerror(errno))))
            }
            offset += written
        }
    }

    func receive() -> AsyncThrowingStream<Data, Swift.Error> {
        messages
    }

    /// Reads until end of input, yielding each non-empty line.
    private static func readLines(from fd: Int32, into continuation: AsyncThrowingStream<Data, Swift.Error>.Continuation, logger: Logger) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var pending: [UInt8] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                if count < 0 { logger.error("cannot read standard input: \(String(cString: strerror(errno)))") }
                break
            }
            var start = 0
            for index in 0..<count where buffer[index] == UInt8(ascii: "\n") {
                pending += buffer[start..<index]
                if !isBlank(pending) { continuation.yield(Data(pending)) }
                pending.removeAll(keepingCapacity: true)
                start = index + 1
            }
            pending += buffer[start..<count]
            if pending.count > maxMessageBytes {
                logger.error("a message on standard input is longer than \(maxMessageBytes) bytes; closing the session")
                pending.removeAll()
                break
            }
        }
        if !isBlank(pending) { continuation.yield(Data(pending)) }
        continuation.finish()
    }

    /// Empty, or only the white space JSON allows around a value: not a message.
    private static func isBlank(_ line: [UInt8]) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}
