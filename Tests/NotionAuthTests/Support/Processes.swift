import Foundation

enum Processes {
    /// Whether `pid` is running: not gone, and not a zombie waiting for its parent.
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }

    /// Whether `pid` is gone within `seconds` (a killed orphan waits for init to reap it).
    static func ends(_ pid: pid_t, within seconds: Double = 2) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning(pid) && Date() < deadline { usleep(10_000) }
        return !isRunning(pid)
    }
}
