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
        child = try await Binary.pid(writtenTo: marker + ".pid")
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

    @Test func maskIsTheFlagGivenElseNotionauthRunMaskDecides() throws {
        func mask(_ arguments: [String]) throws -> Bool? {
            try #require(try ArgumentParser.parse(["run"] + arguments + ["--", "true"]).command as? RunCommand).options.mask
        }
        #expect(try mask(["--mask"]) == true)
        #expect(try mask(["--no-mask"]) == false)
        #expect(try mask([]) == nil)
        #expect(throws: NotionauthError.self) { try ArgumentParser.parse(["run", "--mask", "--no-mask", "--", "true"]) }
        for on in ["1", "true", "TRUE", "yes", "on"] { #expect(RunCommand.enabled("NOTIONAUTH_RUN_MASK", in: ["NOTIONAUTH_RUN_MASK": on]), "\(on)") }
        for off in ["", "0", "false", "no", "off"] { #expect(!RunCommand.enabled("NOTIONAUTH_RUN_MASK", in: ["NOTIONAUTH_RUN_MASK": off]), "\(off)") }
        #expect(!RunCommand.enabled("NOTIONAUTH_RUN_MASK", in: [:]))
    }

    static let maskedToken = "ntn_mask_end_to_end_0123456789abcdef"

    static func loggedInForMasking() async throws -> Sandbox {
        let sandbox = try Sandbox()
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: maskedToken).status == 0)
        return sandbox
    }

    /// Runs the binary and returns its output as bytes, which need not be UTF-8.
    static func runForBytes(_ sandbox: Sandbox, _ arguments: [String], environment extra: [String: String] = [:]) async throws -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        let started = try Binary.start(Binary.notionauth, arguments, stdin: nil, environment: sandbox.environment.merging(extra) { $1 }, directory: sandbox.root)
        try await Binary.wait(started.process, timeoutSeconds: 30)
        let stdout = [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: started.stdoutPath))) ?? Data())
        let stderr = [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: started.stderrPath))) ?? Data())
        return (Binary.collect(started).status, stdout, stderr)
    }

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let needle = Array(needle.utf8)
        return haystack.count >= needle.count && (0...(haystack.count - needle.count)).contains { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
    }

    /// Prints the token whole, then in two writes 0.2 s apart, then on stderr, and exits 7.
    static let printsTheToken = #"""
        T=$NOTION_ACCESS_TOKEN; head=${T%????????????}; tail=${T#"$head"}
        printf 'whole=%s\n' "$T"
        printf 'split=%s' "$head"; sleep 0.2; printf '%s\n' "$tail"
        printf 'err=%s\n' "$T" >&2
        exit 7
        """#

    @Test func withMaskTheTokenIsStarsInStdoutAndStderrWholeOrWrittenInPiecesAndTheStatusIsTheChilds() async throws {
        let sandbox = try await Self.loggedInForMasking()
        let result = try await sandbox.run(["run", "notion", "--mask", "--", "sh", "-c", Self.printsTheToken])
        #expect(result.status == 7)
        #expect(result.stdout == "whole=****\nsplit=****\n")
        #expect(result.stderr == "err=****\n")
        #expect(!(result.stdout + result.stderr).contains(Self.maskedToken))
    }

    @Test func withMaskATokenInsideBinaryOutputIsStarsAndEveryOtherByteIsUnchanged() async throws {
        let sandbox = try await Self.loggedInForMasking()
        let script = #"""
            T=$NOTION_ACCESS_TOKEN; head=${T%????????????????}; tail=${T#"$head"}
            printf '\000\377\376\200'; printf %s "$T"; printf '\303\050\000'
            printf %s "$head"; sleep 0.2; printf %s "$tail"; printf '\377\n\001'
            """#
        let result = try await Self.runForBytes(sandbox, ["run", "--mask", "--", "sh", "-c", script])
        #expect(result.status == 0, "\(String(decoding: result.stderr, as: UTF8.self))")
        #expect(result.stdout == [0x00, 0xff, 0xfe, 0x80] + Array("****".utf8) + [0xc3, 0x28, 0x00] + Array("****".utf8) + [0xff, 0x0a, 0x01])
        #expect(!Self.contains(result.stdout, Self.maskedToken))
    }

    @Test func notionauthRunMaskSetMasksWithoutTheFlagAndNoMaskTurnsItOff() async throws {
        let sandbox = try await Self.loggedInForMasking()
        let print = ["--", "sh", "-c", #"printf '%s\n' "$NOTION_TOKEN"; printf '%s\n' "$NOTION_ACCESS_TOKEN" >&2"#]
        for value in ["1", "true", "yes"] {
            let masked = try await sandbox.run(["run"] + print, environment: ["NOTIONAUTH_RUN_MASK": value])
            #expect(masked.status == 0)
            #expect(masked.stdout == "****\n" && masked.stderr == "****\n", "NOTIONAUTH_RUN_MASK=\(value)")
        }
        for value in ["", "0", "false"] {
            let plain = try await sandbox.run(["run"] + print, environment: ["NOTIONAUTH_RUN_MASK": value])
            #expect(plain.stdout == Self.maskedToken + "\n", "NOTIONAUTH_RUN_MASK=\(value)")
        }
        let overridden = try await sandbox.run(["run", "--no-mask"] + print, environment: ["NOTIONAUTH_RUN_MASK": "1"])
        #expect(overridden.stdout == Self.maskedToken + "\n" && overridden.stderr == Self.maskedToken + "\n")
        let both = try await sandbox.run(["run", "--mask", "--no-mask"] + print)
        #expect(both.status == 2)
        #expect(both.stderr.contains("--mask and --no-mask"))
    }

    /// Without --mask the command writes to notionauth's own descriptors; with it, to pipes.
    /// Standard input is the command's either way.
    @Test func withoutMaskTheOutputIsUntouchedAndTheCommandHasOurDescriptors() async throws {
        let sandbox = try await Self.loggedInForMasking()
        let plain = try await sandbox.run(["run", "--", "sh", "-c", #"printf '%s\n' "$NOTION_TOKEN"; readlink /proc/$$/fd/1"#])
        #expect(plain.status == 0)
        let lines = plain.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == Self.maskedToken)
        #expect(lines.last?.hasSuffix(".out") == true, "\(plain.stdout)")
        let masked = try await sandbox.run(["run", "--mask", "--", "sh", "-c", #"readlink /proc/$$/fd/1 /proc/$$/fd/2; cat"#], stdin: "from stdin\n")
        #expect(masked.status == 0)
        let descriptors = masked.stdout.split(separator: "\n")
        #expect(descriptors.count == 3 && descriptors[0].hasPrefix("pipe:") && descriptors[1].hasPrefix("pipe:"), "\(masked.stdout)")
        #expect(descriptors.last == "from stdin")
    }

    @Test func withMaskSIGTERMReachesTheChildAndItsStatusIsRuns() async throws {
        let sandbox = try await Self.loggedInForMasking()
        let marker = sandbox.root + "/got-term"
        // The trap prints the token, so what it writes after the signal is masked too.
        let script = #"trap 'touch "$0"; printf "bye %s\n" "$NOTION_TOKEN"; exit 42' TERM; echo $$ > "$0.pid"; while :; do sleep 0.05; done"#
        let started = try Binary.start(Binary.notionauth, ["run", "--mask", "--", "sh", "-c", script, marker], stdin: nil, environment: sandbox.environment, directory: sandbox.root)
        defer { if started.process.isRunning { kill(started.process.processIdentifier, SIGKILL) } }
        // A ceiling, not a wait: on a loaded 2-core machine a start can take seconds.
        let ready = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: marker + ".pid"), Date() < ready { try await Task.sleep(nanoseconds: 20_000_000) }
        kill(started.process.processIdentifier, SIGTERM)
        try await Binary.wait(started.process, timeoutSeconds: 10)
        let result = Binary.collect(started)
        #expect(started.process.terminationReason == .exit)
        #expect(started.process.terminationStatus == 42)
        #expect(FileManager.default.fileExists(atPath: marker))
        #expect(result.stdout == "bye ****\n", "\(result.stderr)")
    }

    /// A background process that keeps the pipes open does not keep notionauth waiting
    /// once the command has exited.
    @Test func withMaskRunEndsSoonAfterTheChildEvenIfABackgroundProcessHoldsItsOutput() async throws {
        let sandbox = try await Self.loggedInForMasking()
        let ended = sandbox.root + "/ended"
        let child = #"sleep 60 & echo $! > "$0.background"; printf '%s\n' "$NOTION_TOKEN"; exit 3"#
        // The background sleep also holds what Foundation watches for the end of the process
        // it started, so the end of notionauth is told by the file written after it.
        let started = try Binary.start("/bin/sh", ["-c", #""$0" run --mask -- sh -c "$1" "$2"; echo $? > "$2""#, Binary.notionauth, child, ended], stdin: nil, environment: sandbox.environment, directory: sandbox.root)
        // Far less than the background's 60 s, with room for a loaded machine.
        let deadline = Date().addingTimeInterval(30)
        var status: String?
        while Date() < deadline {
            status = (try? String(contentsOfFile: ended, encoding: .utf8)).flatMap { $0.hasSuffix("\n") ? $0 : nil }
            if status != nil { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        if let background = (try? String(contentsOfFile: ended + ".background", encoding: .utf8)).flatMap({ pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
            kill(background, SIGKILL)
        }
        try await Binary.wait(started.process, timeoutSeconds: 10)
        let result = Binary.collect(started)
        #expect(status == "3\n", "run still waited 30 s after its command exited")
        #expect(result.stdout == "****\n", "\(result.stderr)")
    }

    /// `notionauth run --mask -- yes | head`: when our reader goes, the command's next write
    /// fails as it would have without --mask, and SIGPIPE ends it.
    @Test func withMaskAClosedReaderEndsTheCommandWithSIGPIPE() async throws {
        let sandbox = try await Self.loggedInForMasking()
        let result = try await Binary.run("/bin/bash", ["-c", #""$0" run --mask -- yes | head -c 4; echo " ${PIPESTATUS[0]}""#, Binary.notionauth], environment: sandbox.environment, directory: sandbox.root, timeoutSeconds: 20)
        #expect(result.stdout == "y\ny\n 141\n", "\(result.stderr)")
    }
}
