import Foundation

/// The signal masks of /proc/PID/status, for tests that check what a process ignores or blocks.
enum SignalMask {
    /// Bits of a mask line ("SigIgn:\t0000000000001000").
    static func parse(_ field: String, in status: String) -> UInt64? {
        status.split(separator: "\n").first { $0.hasPrefix(field + ":") }
            .flatMap { UInt64($0.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces), radix: 16) }
    }

    static func bit(_ signal: Int32) -> UInt64 { 1 << UInt64(signal - 1) }
}
