import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// Core dumps: a crashing notionauth must leave no core file holding its secrets, while
/// `run`'s child keeps the core limit the user gave.
@Suite struct ProcessHardeningTests {
    /// Soft and hard "Max core file size" of a running process, as /proc shows them.
    static func coreLimits(of pid: Int32) -> (soft: String, hard: String)? {
        guard let limits = try? String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8),
              let line = limits.split(separator: "\n").first(where: { $0.hasPrefix("Max core file size") })
        else { return nil }
        let fields = line.dropFirst("Max core file size".count).split(separator: " ")
        guard fields.count >= 2 else { return nil }
        return (String(fields[0]), String(fields[1]))
    }

    /// A login waiting on its listener, started by a shell that allows cores of any size,
    /// is killed with a signal that dumps core by default: SIGSEGV, and SIGILL, which is
    /// what a Swift runtime trap raises on x86-64. (Not SIGABRT: the test runner's threads
    /// block it, and so does the notionauth they start.)
    @Test(arguments: [SIGSEGV, SIGILL])
    func aCrashWhileHoldingSecretsWritesNoCoreFile(signal: Int32) async throws {
        let sandbox = try Sandbox()
        let directory = sandbox.root + "/cwd"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try Browserless.freePort()
        // The Swift runtime's backtracer (on in debug builds) catches crash signals to print
        // a backtrace, and one sent with kill(2) does not end the process at all; off, the
        // signal's default action happens: a core file, before the fix.
        var environment = sandbox.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let started = try Binary.start(
            "/bin/sh", ["-c", #"ulimit -c unlimited && exec "$0" "$@""#, Binary.notionauth,
                        "login", "notion", "--no-browser", "--port", String(port), "--timeout", "60"],
            stdin: nil, environment: environment, directory: directory)
        defer { if started.process.isRunning { kill(started.process.processIdentifier, SIGKILL) } }
        // A ceiling, not a wait: the first seconds of a full run on 2 cores are slow.
        let deadline = Date().addingTimeInterval(60)
        while !((try? String(contentsOfFile: started.stderrPath, encoding: .utf8)) ?? "").contains("http://127.0.0.1:\(port)/"), Date() < deadline {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let pid = started.process.processIdentifier
        let limits = try #require(Self.coreLimits(of: pid), "notionauth is not waiting: \(Binary.collect(started).stderr)")
        #expect(limits.soft == "0" && limits.hard == "0", "core file size limits: \(limits)")

        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let blocked = try #require(SignalMask.parse("SigBlk", in: status))
        try #require(blocked & SignalMask.bit(signal) == 0, "signal \(signal) is blocked in notionauth, so it would never arrive")
        kill(pid, signal)
        try await Binary.wait(started.process, timeoutSeconds: 10)
        #expect(started.process.terminationReason == .uncaughtSignal)
        #expect(started.process.terminationStatus == signal)

        // A relative core pattern writes into the crashing process's directory; with a
        // pipe or an absolute path the core would go elsewhere, and the limits above
        // (with the process not dumpable) are what this test can check.
        let pattern = ((try? String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if pattern.isEmpty || pattern.hasPrefix("|") || pattern.contains("/") {
            Issue.record("kernel.core_pattern is \(pattern.debugDescription), not a plain file name: checked the core limit only, not for a core file", severity: .warning)
        } else {
            let left = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(left.isEmpty, "a core file was written: \(left)")
        }
        _ = Binary.collect(started)
    }

    /// `run`'s child gets the limit notionauth was started with, soft and hard, while
    /// notionauth itself has none.
    @Test func runsChildKeepsTheOriginalCoreLimit() async throws {
        let sandbox = try Sandbox()
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_core_limit_abcdefghij").status == 0)
        // notionauth has the user's limit for the instant of the spawn and lowers it right
        // after, so the child gives it up to 5 s to do so before it reads the limit.
        let child = #"ulimit -Sc; ulimit -Hc; for i in $(seq 100); do [ "$(awk '/^Max core file size/ { print $5 }' /proc/$PPID/limits)" = 0 ] && break; sleep 0.05; done; grep "^Max core file size" /proc/$PPID/limits"#
        let result = try await Binary.run(
            "/bin/sh", ["-c", #"ulimit -Sc 1234 && exec "$0" run -- sh -c "$1""#, Binary.notionauth, child],
            environment: sandbox.environment, directory: sandbox.root)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.prefix(2) == ["1234", "unlimited"], "\(result.stdout)")
        // The parent, notionauth, waits with a soft limit of 0 (its hard limit is kept for the child).
        #expect(lines.last?.split(separator: " ").dropFirst(4).first == "0", "\(result.stdout)")
    }

    /// The same for a user without privileges, who cannot raise a hard limit once it is
    /// lowered: `run` must not lower it.
    @Test func runsChildKeepsTheOriginalCoreLimitWithoutPrivileges() async throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            Issue.record("needs root and setpriv(1) to run notionauth as an unprivileged user; only the privileged case was checked", severity: .warning)
            return
        }
        let sandbox = try Sandbox()
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_core_limit_abcdefghij").status == 0)
        let chown = try await Binary.run("/bin/chown", ["-R", "65534:65534", sandbox.root], environment: sandbox.environment, directory: "/")
        #expect(chown.status == 0, "\(chown.stderr)")
        let result = try await Binary.run(
            "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "/bin/sh", "-c",
                                 #"ulimit -Hc 5000 && ulimit -Sc 1234 && exec "$0" run -- sh -c 'ulimit -Sc; ulimit -Hc'"#, Binary.notionauth],
            environment: sandbox.environment, directory: sandbox.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "1234\n5000\n", "\(result.stdout)")
    }
}
