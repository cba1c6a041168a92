import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// `run` with the real binary: signals sent to notionauth reach its child, notionauth ends
/// with the child's status and leaves no orphan; the child starts clean.
@Suite struct RunSignalTests {
    static func loggedIn() async throws -> Sandbox {
        let sandbox = try Sandbox()
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_run_signals_abcdefghij").status == 0)
        return sandbox
    }

    /// Whether a process with this pid still exists (a zombie of ours counts).
    static func exists(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 || errno != ESRCH }

    @Test(arguments: [("HUP", SIGHUP), ("QUIT", SIGQUIT), ("USR1", SIGUSR1), ("USR2", SIGUSR2), ("WINCH", SIGWINCH)])
    func aSignalSentToRunReachesTheChildAndItsStatusIsRuns(name: String, signal: Int32) async throws {
        let sandbox = try await Self.loggedIn()
        let marker = sandbox.root + "/child"
        // The child says when its trap is set, then waits; the trap records the signal and
        // exits with a status of its own.
        let script = #"trap 'echo "$1" > "$0.got"; exit 42' "$1"; echo $$ > "$0.pid"; while :; do sleep 0.05; done"#
        let started = try Binary.start(Binary.notionauth, ["run", "--", "sh", "-c", script, marker, name], stdin: nil, environment: sandbox.environment, directory: sandbox.root)
        var child: pid_t = 0
        defer {
            if started.process.isRunning { kill(started.process.processIdentifier, SIGKILL) }
            if child > 0 { kill(child, SIGKILL) }
        }
        let ready = Date().addingTimeInterval(10)
        while child == 0, Date() < ready {
            child = (try? String(contentsOfFile: marker + ".pid", encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        try #require(child > 0, "the child did not start: \(Binary.collect(started).stderr)")

        kill(started.process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(10)
        while started.process.isRunning, Date() < deadline { try await Task.sleep(nanoseconds: 10_000_000) }
        try #require(!started.process.isRunning, "notionauth still runs 10 s after SIG\(name)")

        #expect(started.process.terminationReason == .exit, "notionauth was killed by signal \(started.process.terminationStatus)")
        #expect(started.process.terminationStatus == 42)
        #expect((try? String(contentsOfFile: marker + ".got", encoding: .utf8)) == name + "\n", "the child did not get SIG\(name)")
        #expect(!Self.exists(child), "the child \(child) was left running")
        _ = Binary.collect(started)
    }

    /// Bits of a /proc/PID/status signal mask line ("SigIgn:\t0000000000001000").
    static func mask(_ field: String, in status: String) -> UInt64? {
        status.split(separator: "\n").first { $0.hasPrefix(field + ":") }
            .flatMap { UInt64($0.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces), radix: 16) }
    }

    static func bit(_ signal: Int32) -> UInt64 { 1 << UInt64(signal - 1) }

    /// Nothing that notionauth catches, ignores or holds back while it starts the child is
    /// ignored or blocked in the child.
    @Test func theChildStartsWithDefaultHandlingAndNothingBlocked() async throws {
        let sandbox = try await Self.loggedIn()
        let result = try await sandbox.run(["run", "--", "cat", "/proc/self/status"])
        #expect(result.status == 0, "\(result.stderr)")
        let all = [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGTERM, SIGWINCH].reduce(UInt64(0)) { $0 | Self.bit($1) }
        let ignored = try #require(Self.mask("SigIgn", in: result.stdout))
        let blocked = try #require(Self.mask("SigBlk", in: result.stdout))
        #expect(ignored & all == 0, "ignored in the child: \(String(ignored, radix: 16))")
        #expect(blocked & all == 0, "blocked in the child: \(String(blocked, radix: 16))")
    }

    /// `nohup notionauth run -- job`: a signal ignored when notionauth started stays
    /// ignored for the child, as for any command run in notionauth's place.
    @Test func aSignalIgnoredFromTheStartStaysIgnoredForTheChild() async throws {
        let sandbox = try await Self.loggedIn()
        let result = try await Binary.run("/bin/sh", ["-c", #"trap '' HUP; exec "$0" run -- cat /proc/self/status"#, Binary.notionauth], environment: sandbox.environment, directory: sandbox.root)
        #expect(result.status == 0, "\(result.stderr)")
        let ignored = try #require(Self.mask("SigIgn", in: result.stdout))
        #expect(ignored & Self.bit(SIGHUP) != 0)
        #expect(ignored & Self.bit(SIGUSR1) == 0)
    }

    /// The descriptor the vault passphrase came through is closed in the child.
    @Test func theChildDoesNotHaveThePassphraseDescriptor() async throws {
        let sandbox = try await Self.loggedIn()
        #expect(await sandbox.runInProcess(["vault", "passphrase"], environment: ["NOTIONAUTH_PASSPHRASE": "fd passphrase"]).status == 0)
        let passphraseFile = sandbox.root + "/passphrase"
        try "fd passphrase\n".write(toFile: passphraseFile, atomically: true, encoding: .utf8)
        let child = #"test -n "$NOTION_ACCESS_TOKEN" || exit 9; ls /proc/$$/fd; if [ -e /proc/$$/fd/9 ]; then echo open; else echo closed; fi"#
        let result = try await Binary.run(
            "/bin/sh", ["-c", #"exec 9<"$1" && NOTIONAUTH_PASSPHRASE_FD=9 exec "$0" run -- sh -c "$2""#, Binary.notionauth, passphraseFile, child],
            environment: sandbox.environment, directory: sandbox.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasSuffix("closed\n"), "\(result.stdout)")
    }
}
