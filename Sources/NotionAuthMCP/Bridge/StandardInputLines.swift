import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The lines of a file descriptor (MCP's stdio framing: one message a line), read by a thread
/// of their own with blocking reads, so a message is relayed the moment it arrives.
enum StandardInputLines {
    static func lines(fileDescriptor: Int32 = 0) -> AsyncStream<Data> {
        let (lines, continuation) = AsyncStream.makeStream(of: Data.self)
        Thread {
            var pending = Data()
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                pending.append(contentsOf: buffer[..<count])
                while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending[pending.startIndex..<end]
                    pending = Data(pending[pending.index(after: end)...])
                    if !line.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 }) { continuation.yield(Data(line)) }
                }
            }
            if !pending.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 }) { continuation.yield(pending) }
            continuation.finish()
        }.start()
        return lines
    }
}
