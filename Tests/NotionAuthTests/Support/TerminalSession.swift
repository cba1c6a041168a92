import Foundation
import Testing
@testable import NotionAuthCore

/// The built notionauth on a real pseudo-terminal: a tmux server of its own (socket in the
/// sandbox, killed when the test ends), the command run by a shell script that keeps its exit
/// status and the terminal's settings before and after, and then reads one more line from
/// the terminal, so a test can see whether anything typed was left for the shell.
/// Needs Debian's `tmux`.
final class TerminalSession: @unchecked Sendable {
    let sandbox: Sandbox
    let socket: String
    let directory: String

    /// Runs `notionauth arguments…` with the sandbox's environment (prompts allowed) plus `extra`.
    init(_ sandbox: Sandbox, _ arguments: [String], environment extra: [String: String] = [:]) async throws {
        self.sandbox = sandbox
        directory = sandbox.root + "/tty-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socket = directory + "/tmux.sock"
        var environment = sandbox.environment.merging(extra) { $1 }
        environment.removeValue(forKey: "NOTIONAUTH_NO_PROMPT")
        let command = ["env", "-i"] + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + [Binary.notionauth] + arguments
        let script = """
            stty -g > stty.before
            \(command.map(Self.quoted).joined(separator: " "))
            status=$?
            stty -g > stty.after
            echo $status > status.partial && mv status.partial status
            IFS= read -r rest
            printf '%s' "$rest" > leftover

            """
        try script.write(toFile: directory + "/run.sh", atomically: true, encoding: .utf8)
        // The pane stays after the script ends, so that its last screen can still be read.
        try "set -g remain-on-exit on\nset -g history-limit 5000\n".write(toFile: directory + "/tmux.conf", atomically: true, encoding: .utf8)
        // The test process blocks most signals, and a mask survives exec: `env
        // --default-signal` gives tmux (and the login under it) the clean slate of a real
        // terminal. The client is not waited for: the server it starts keeps a descriptor
        // that Foundation watches to learn that its child ended.
        _ = try Binary.start("/usr/bin/env", ["--default-signal", "/usr/bin/tmux", "-S", socket, "-f", directory + "/tmux.conf", "new-session", "-d", "-s", "login", "-x", "400", "-y", "50", "-c", directory, "sh run.sh"], stdin: nil, environment: Self.tmuxEnvironment, directory: directory)
        let deadline = Date().addingTimeInterval(30)
        while try await tmux(["has-session", "-t", "login"]).status != 0 {
            guard Date() < deadline else {
                Issue.record("tmux did not start")
                throw NotionauthError.failure("no tmux")
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    static let tmuxEnvironment = ["PATH": "/usr/bin:/bin", "TERM": "xterm", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"]

    deinit {
        // The tmux server and whatever still runs in it end with the test.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tmux")
        process.arguments = ["-S", socket, "kill-server"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        process.waitUntilExit()
    }

    private static func quoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    @discardableResult
    private func tmux(_ arguments: [String]) async throws -> RunResult {
        try await Binary.run("/usr/bin/tmux", ["-S", socket] + arguments, environment: Self.tmuxEnvironment, directory: directory)
    }

    /// What the terminal shows, history included, lines that wrapped joined again.
    func screen() async throws -> String {
        try await tmux(["capture-pane", "-p", "-J", "-S", "-", "-t", "login"]).stdout
    }

    /// Waits until the screen holds `text`; returns the screen.
    @discardableResult
    func waitFor(_ text: String, timeoutSeconds: Double = 60, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var last = ""
        while Date() < deadline {
            last = try await screen()
            if last.contains(text) { return last }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        Issue.record("the terminal never showed \(text.debugDescription); it shows:\n\(last)", sourceLocation: sourceLocation)
        throw NotionauthError.failure("not on the terminal")
    }

    /// The first line that starts with http:// or https://: the URL to open.
    func printedURL() async throws -> String {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let line = try await screen().split(separator: "\n").first(where: { $0.hasPrefix("http://") || $0.hasPrefix("https://") }) {
                return String(line).trimmingCharacters(in: .whitespaces)
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        Issue.record("no URL on the terminal: \(try await screen())")
        throw NotionauthError.failure("no URL")
    }

    /// Types `text` as if pasted, then Enter unless told otherwise.
    func type(_ text: String, enter: Bool = true) async throws {
        if !text.isEmpty { try await tmux(["send-keys", "-t", "login", "-l", text]) }
        if enter { try await tmux(["send-keys", "-t", "login", "Enter"]) }
    }

    /// Whether notionauth has ended, and its exit status then.
    var status: Int32? {
        (try? String(contentsOfFile: directory + "/status", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Waits for notionauth to end; its exit status.
    func finish(timeoutSeconds: Double = 60) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if let status { return status }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        Issue.record("notionauth did not end; the terminal shows:\n\(try await screen())")
        throw NotionauthError.failure("timeout")
    }

    /// Waits for notionauth to end and expects `status`; the screen says why if not.
    func expectExit(_ expected: Int32, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let status = try await finish()
        let shown = status == expected ? "" : try await screen()
        #expect(status == expected, "\(shown)", sourceLocation: sourceLocation)
    }

    /// The terminal's settings (`stty -g`) before notionauth started and after it ended.
    func terminalSettings() throws -> (before: String, after: String) {
        (try String(contentsOfFile: directory + "/stty.before", encoding: .utf8), try String(contentsOfFile: directory + "/stty.after", encoding: .utf8))
    }

    /// Presses Enter for the script's last `read`, and returns what that read got: anything
    /// typed during the login that notionauth left unread for the shell.
    func leftForTheShell() async throws -> String {
        try await tmux(["send-keys", "-t", "login", "Enter"])
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: directory + "/leftover", encoding: .utf8) { return text }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        throw NotionauthError.failure("the script's read never returned")
    }
}
