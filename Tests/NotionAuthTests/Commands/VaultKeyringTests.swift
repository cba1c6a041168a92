import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthCLI

/// `vault keyring` and `vault keyfile` against a real Secret Service: GNOME Keyring on a D-Bus
/// session of the test's own, with its home and runtime directories inside the sandbox, so
/// that the user's own keyring is never touched.
@Suite struct VaultKeyringTests {
    @Test func theKeyMovesIntoTheKeyringAndBack() async throws {
        let sandbox = try KeyringSession.sandbox()
        let session = try await KeyringSession.start(for: sandbox)
        defer { session.stop() }
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: Sandbox.testToken).status == 0)
        let key = try String(contentsOfFile: sandbox.keyPath, encoding: .utf8)

        let moved = try await sandbox.run(["vault", "keyring"])
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(moved.stderr == "The vault's key is now in the keyring; the key file \(sandbox.keyPath) was removed.\n")
        #expect(!FileManager.default.fileExists(atPath: sandbox.keyPath))
        let lookup = "secret-tool lookup service notionauth vault \(sandbox.vaultPath)"
        #expect(try String(contentsOfFile: sandbox.vaultPath + ".key-command", encoding: .utf8) == lookup + "\n")
        let get = try await sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(get.stdout == Sandbox.testToken + "\n", "\(get.stderr)")
        let status = try JSONValue.parse(Array(try await sandbox.run(["--json", "vault"]).stdout.utf8))
        #expect(status["vault"]?["key_command"] == .string(lookup))
        // The keyring holds the key itself, in the key file's encoding.
        let stored = try await session.secretTool(["lookup", "service", "notionauth", "vault", sandbox.vaultPath], sandbox: sandbox)
        #expect(stored.status == 0 && stored.stdout + "\n" == key)

        let back = try await sandbox.run(["vault", "keyfile"])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.stderr == "The vault's key is now in the key file \(sandbox.keyPath); it was removed from the keyring.\n")
        #expect(try String(contentsOfFile: sandbox.keyPath, encoding: .utf8) == key)
        #expect(!FileManager.default.fileExists(atPath: sandbox.vaultPath + ".key-command"))
        let gone = try await session.secretTool(["lookup", "service", "notionauth", "vault", sandbox.vaultPath], sandbox: sandbox)
        #expect(gone.status != 0 && gone.stdout.isEmpty)
        // The key file alone opens it: no bus needed any more.
        let local = try await sandbox.run(["get", "notion", "--field", "access_token"], environment: ["DBUS_SESSION_BUS_ADDRESS": ""])
        #expect(local.stdout == Sandbox.testToken + "\n", "\(local.stderr)")
    }

    @Test func aPassphraseVaultMovedToTheKeyringGetsANewKeyThere() async throws {
        let sandbox = try KeyringSession.sandbox()
        let session = try await KeyringSession.start(for: sandbox)
        defer { session.stop() }
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: Sandbox.testToken).status == 0)
        let pass = ["NOTIONAUTH_PASSPHRASE": "correct horse battery"]
        #expect(try await sandbox.run(["vault", "passphrase"], environment: pass).status == 0)
        let moved = try await sandbox.run(["vault", "keyring"], environment: pass)
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(moved.stderr.contains("protected by a key instead of the passphrase; the key is in the keyring"))
        #expect(try await sandbox.run(["get", "notion", "--field", "access_token"]).stdout == Sandbox.testToken + "\n")

        // A key removed from the keyring behind notionauth's back: a clear error, exit 5.
        #expect(try await session.secretTool(["clear", "service", "notionauth", "vault", sandbox.vaultPath], sandbox: sandbox).status == 0)
        let lost = try await sandbox.run(["get", "notion"])
        #expect(lost.status == 5)
        #expect(lost.stderr.contains("the key command in \(sandbox.vaultPath).key-command (secret-tool) failed with exit status 1"), "\(lost.stderr)")
    }

    @Test func aPassphraseTakesTheKeyOutOfTheKeyring() async throws {
        let sandbox = try KeyringSession.sandbox()
        let session = try await KeyringSession.start(for: sandbox)
        defer { session.stop() }
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: Sandbox.testToken).status == 0)
        #expect(try await sandbox.run(["vault", "keyring"]).status == 0)
        let pass = ["NOTIONAUTH_PASSPHRASE": "correct horse battery"]
        let result = try await sandbox.run(["vault", "passphrase"], environment: pass)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "The vault is now protected by a passphrase; its key was removed from the keyring.\n")
        #expect(!FileManager.default.fileExists(atPath: sandbox.vaultPath + ".key-command"))
        let gone = try await session.secretTool(["lookup", "service", "notionauth", "vault", sandbox.vaultPath], sandbox: sandbox)
        #expect(gone.status != 0 && gone.stdout.isEmpty)
        #expect(try await sandbox.run(["get", "notion", "--field", "access_token"], environment: pass).stdout == Sandbox.testToken + "\n")
    }

    @Test func withoutADBusSessionTheKeyringIsAnErrorAtOnce() async throws {
        let sandbox = try KeyringSession.sandbox()
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: Sandbox.testToken).status == 0)
        // What is timed is the move itself, not how long a busy machine takes to start a process.
        let vault = await sandbox.vault()
        let started = Date()
        do {
            _ = try vault.moveKeyToKeyring()
            Issue.record("the key moved to a keyring without a bus")
        } catch {
            #expect(error.description.contains("there is no D-Bus session"))
        }
        #expect(Date().timeIntervalSince(started) < 2)
        let result = try await sandbox.run(["vault", "keyring"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("there is no D-Bus session"), "\(result.stderr)")
        #expect(result.stderr.contains("nothing was changed"))
        #expect(FileManager.default.fileExists(atPath: sandbox.keyPath))
        #expect(!FileManager.default.fileExists(atPath: sandbox.vaultPath + ".key-command"))
    }

    @Test func aBusWithoutAKeyringIsAnErrorAtOnce() async throws {
        let sandbox = try KeyringSession.sandbox()
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: Sandbox.testToken).status == 0)
        let session = try await KeyringSession.start(for: sandbox, keyring: false)
        defer { session.stop() }
        let started = Date()
        let result = try await sandbox.run(["vault", "keyring"])
        // secret-tool fails at once, not after the 5 s a keyring that does not answer gets: the
        // message says which (the time bound only leaves room for a loaded machine).
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot store the vault's key in the keyring: secret-tool failed with exit status 1; nothing was changed"), "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: sandbox.keyPath))
        #expect(!FileManager.default.fileExists(atPath: sandbox.vaultPath + ".key-command"))
    }

    /// What kept gh's users waiting for minutes: a keyring that never answers.
    @Test func aKeyringThatDoesNotAnswerIsGivenUpOnWithinSeconds() async throws {
        let sandbox = try KeyringSession.sandbox()
        #expect(try await sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: Sandbox.testToken).status == 0)
        let session = try await KeyringSession.start(for: sandbox)
        defer { session.stop() }
        kill(session.daemon, SIGSTOP)
        defer { kill(session.daemon, SIGCONT) }
        let started = Date()
        let result = try await sandbox.run(["vault", "keyring"])
        let elapsed = Date().timeIntervalSince(started)
        // The 5 s limit, told by the message; the bound leaves room for a loaded machine and is
        // still far from the minutes gh's users waited.
        #expect(elapsed < 20, "took \(elapsed) s")
        #expect(result.status == 1)
        #expect(result.stderr.contains("secret-tool did not finish within 5 s and was stopped"), "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: sandbox.keyPath))
        #expect(!FileManager.default.fileExists(atPath: sandbox.vaultPath + ".key-command"))
    }
}

/// A D-Bus session bus of the test's own (`dbus-run-session`), with GNOME Keyring unlocked by a
/// password the test gives it, or no Secret Service at all. The session lasts until `stop()`,
/// or until the test process is gone.
final class KeyringSession: @unchecked Sendable {
    let session: pid_t
    let stopFile: String
    /// The pids of the bus and of the keyring daemon (0 without one), which must end with it.
    let bus: pid_t
    let daemon: pid_t

    /// A sandbox whose every directory a keyring or bus would use is its own, and no display.
    static func sandbox() throws -> Sandbox {
        let sandbox = try Sandbox()
        let home = sandbox.root + "/home"
        try FileManager.default.createDirectory(atPath: sandbox.root + "/run", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        sandbox.environment.merge([
            "XDG_RUNTIME_DIR": sandbox.root + "/run",
            "XDG_DATA_HOME": home + "/.local/share",
            "XDG_CONFIG_HOME": home + "/.config",
            "XDG_CACHE_HOME": home + "/.cache",
        ]) { $1 }
        return sandbox
    }

    static let script = """
        set -e
        owner() {
            dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetConnectionUnixProcessID "string:$1" | awk '/uint32/ { print $2 }'
        }
        if [ "$1" = keyring ]; then
            printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
            i=0
            until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true; do
                i=$((i + 1)); [ $i -lt 200 ]; sleep 0.05
            done
            owner org.freedesktop.secrets > "$2.daemon"
        else
            echo 0 > "$2.daemon"
        fi
        owner org.freedesktop.DBus > "$2.bus"
        printf '%s\n' "$DBUS_SESSION_BUS_ADDRESS" > "$2"
        while [ ! -e "$2.stop" ] && kill -0 "$TEST_PID" 2>/dev/null; do sleep 0.05; done
        """

    /// A session bus that activates nothing: no Secret Service to be had.
    static let emptyBus = """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen><auth>EXTERNAL</auth>
        <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
        """

    private init(session: pid_t, stopFile: String, bus: pid_t, daemon: pid_t) {
        self.session = session
        self.stopFile = stopFile
        self.bus = bus
        self.daemon = daemon
    }

    /// Starts the session with `sandbox`'s environment and points the sandbox at it.
    static func start(for sandbox: Sandbox, keyring: Bool = true) async throws -> KeyringSession {
        let base = sandbox.root + "/bus-\(UUID().uuidString)"
        var arguments = ["/usr/bin/dbus-run-session", "--", "sh", "-c", script, "keyring-session", keyring ? "keyring" : "none", base]
        if !keyring {
            try emptyBus.write(toFile: base + ".conf", atomically: true, encoding: .utf8)
            arguments.insert("--config-file=" + base + ".conf", at: 1)
        }
        let session = try spawn(arguments, environment: sandbox.environment.merging([
            "KEYRING_PASSWORD": "keyring password of the test", "TEST_PID": String(getpid()),
        ]) { $1 })
        let deadline = Date().addingTimeInterval(30)
        var status: Int32 = 0
        while !FileManager.default.fileExists(atPath: base) {
            guard waitpid(session, &status, WNOHANG) == 0, Date() < deadline else {
                throw NotionauthError.failure("the D-Bus session did not start (status \(status))")
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        func read(_ path: String) throws -> String {
            try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        sandbox.environment["DBUS_SESSION_BUS_ADDRESS"] = try read(base)
        return KeyringSession(session: session, stopFile: base + ".stop", bus: pid_t(try read(base + ".bus")) ?? 0, daemon: pid_t(try read(base + ".daemon")) ?? 0)
    }

    /// posix_spawn with no signal blocked: Foundation's Process passes on what the test
    /// runner's thread blocks, SIGTERM included, with which dbus-run-session ends its bus.
    private static func spawn(_ arguments: [String], environment: [String: String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in 0...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else { throw NotionauthError.failure("cannot start \(arguments[0]): \(String(cString: strerror(result)))") }
        return pid
    }

    /// `secret-tool` itself, on this session.
    func secretTool(_ arguments: [String], sandbox: Sandbox) async throws -> RunResult {
        try await Binary.run("/usr/bin/secret-tool", arguments, environment: sandbox.environment, directory: sandbox.root)
    }

    /// Ends the session: the bus goes, and the keyring daemon with it (checked).
    func stop() {
        FileManager.default.createFile(atPath: stopFile, contents: nil)
        let deadline = Date().addingTimeInterval(10)
        var status: Int32 = 0
        while waitpid(session, &status, WNOHANG) == 0 && Date() < deadline { usleep(10_000) }
        for (name, pid) in [("dbus-run-session", session), ("bus", bus), ("keyring daemon", daemon)] where pid > 0 {
            if !Processes.ends(pid, within: max(0, deadline.timeIntervalSinceNow)) {
                Issue.record("the \(name) \(pid) outlived its session")
                kill(pid, SIGKILL)
            }
        }
    }
}
