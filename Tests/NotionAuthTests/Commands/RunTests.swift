import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// `run`: the child gets the tokens in its environment and nothing that opens the vault;
/// signals sent to notionauth reach it, notionauth ends with its status and leaves no
/// orphan; the child starts with default signal handling.
@Suite struct RunTests {
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

    /// Nothing that notionauth catches, ignores or holds back while it starts the child is
    /// ignored or blocked in the child.
    @Test func theChildStartsWithDefaultHandlingAndNothingBlocked() async throws {
        let sandbox = try await Self.loggedIn()
        let result = try await sandbox.run(["run", "--", "cat", "/proc/self/status"])
        #expect(result.status == 0, "\(result.stderr)")
        let all = [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGTERM, SIGWINCH].reduce(UInt64(0)) { $0 | SignalMask.bit($1) }
        let ignored = try #require(SignalMask.parse("SigIgn", in: result.stdout))
        let blocked = try #require(SignalMask.parse("SigBlk", in: result.stdout))
        #expect(ignored & all == 0, "ignored in the child: \(String(ignored, radix: 16))")
        #expect(blocked & all == 0, "blocked in the child: \(String(blocked, radix: 16))")
    }

    /// `nohup notionauth run -- job`: a signal ignored when notionauth started stays
    /// ignored for the child, as for any command run in notionauth's place.
    @Test func aSignalIgnoredFromTheStartStaysIgnoredForTheChild() async throws {
        let sandbox = try await Self.loggedIn()
        let result = try await Binary.run("/bin/sh", ["-c", #"trap '' HUP; exec "$0" run -- cat /proc/self/status"#, Binary.notionauth], environment: sandbox.environment, directory: sandbox.root)
        #expect(result.status == 0, "\(result.stderr)")
        let ignored = try #require(SignalMask.parse("SigIgn", in: result.stdout))
        #expect(ignored & SignalMask.bit(SIGHUP) != 0)
        #expect(ignored & SignalMask.bit(SIGUSR1) == 0)
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

    @Test(arguments: StoreKind.allCases)
    func runPassesTheEnvironmentAndTheExitStatus(store: StoreKind) async throws {
        let sandbox = try await Sandbox.make(store)
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_run_token_abcdefghij").status == 0)
        let result = try await sandbox.run(["run", "notion", "--", "sh", "-c", "printf '%s|%s' \"$NOTION_ACCESS_TOKEN\" \"$NOTION_TOKEN\"; exit 7"])
        #expect(result.status == 7)
        #expect(result.stdout == "ntn_run_token_abcdefghij|ntn_run_token_abcdefghij")
        let all = try await sandbox.run(["run", "--", "sh", "-c", "test -n \"$NOTION_ACCESS_TOKEN\""])
        #expect(all.status == 0)
        let nested = try await sandbox.run(["run", "--", "sh", "-c", "exec \"$0\" run -- true", Binary.notionauth])
        #expect(nested.status == 2)
        #expect(nested.stderr.contains("--allow-nested"))
        let allowed = try await sandbox.run(["run", "--", "sh", "-c", "exec \"$0\" run --allow-nested -- true", Binary.notionauth])
        #expect(allowed.status == 0)
        let missing = try await sandbox.run(["run", "--", "no-such-command-here"])
        #expect(missing.status == 1)
        // The child gets tokens, never what opens the vault or a client secret.
        let secrets = ["NOTIONAUTH_PASSPHRASE": "pp", "NOTION_CLIENT_SECRET": "cs", "NOTIONAUTH_PASSPHRASE_FD": "9"]
        let env = try await sandbox.run(["run", "--", "env"], environment: secrets)
        #expect(env.status == 0)
        for name in Array(secrets.keys) + ["NOTIONAUTH_VAULT_KEY", "NOTIONAUTH_STORE"] { #expect(!env.stdout.contains(name + "="), "\(name)") }
        #expect(env.stdout.contains("NOTION_ACCESS_TOKEN=ntn_run_token_abcdefghij"))
        // A --json meant for the child does not turn notionauth's own errors into JSON.
        let childJSON = try await Sandbox().run(["run", "notion", "--", "echo", "--json"])
        #expect(childJSON.stderr.hasPrefix("error: "))
    }

    @Test func runForwardsSIGTERMToTheChild() async throws {
        let sandbox = try Sandbox()
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_run_signal_abcdefghij").status == 0)
        let marker = sandbox.root + "/got-term"
        let started = try Binary.start(Binary.notionauth, ["run", "--", "sh", "-c", "trap 'touch \"$0\"; exit 42' TERM; while :; do sleep 0.05; done", marker], stdin: nil, environment: sandbox.environment, directory: sandbox.root)
        try await Task.sleep(nanoseconds: 500_000_000)
        kill(started.process.processIdentifier, SIGTERM)
        try await Binary.wait(started.process, timeoutSeconds: 10)
        #expect(started.process.terminationStatus == 42)
        #expect(FileManager.default.fileExists(atPath: marker))
    }
}
