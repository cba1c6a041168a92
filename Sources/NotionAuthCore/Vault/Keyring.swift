#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The desktop keyring (the Secret Service of GNOME Keyring, KeePassXC, KWallet…) through
/// `secret-tool` (libsecret-tools): `vault keyring` stores the vault's key there under the
/// vault's path and records the lookup as the vault's key command, which `get` then runs.
public struct SecretServiceKeyring: Sendable {
    public let vaultPath: String
    let runner: KeyCommandRunner

    public static let program = "secret-tool"
    /// Without a display nobody can answer an unlock prompt, so a keyring that has not
    /// answered by then never will (gh's users waited minutes on headless machines).
    static let headlessTimeout = 5.0

    public init(vaultPath: String, runner: KeyCommandRunner) {
        self.vaultPath = vaultPath
        self.runner = runner
    }

    var attributes: [String] { ["service", "notionauth", "vault", vaultPath] }

    /// The key command that reads the key back: what `vault keyring` records.
    public var lookupCommand: KeyCommand { KeyCommand(words: [Self.program, "lookup"] + attributes) }

    /// The command to type to remove the key by hand.
    public var clearCommand: KeyCommand { KeyCommand(words: [Self.program, "clear"] + attributes) }

    /// Fails at once without a session bus, where secret-tool would try to start one through X11.
    public func checkReachable() throws(NotionauthError) {
        let environment = runner.environment
        let address = environment["DBUS_SESSION_BUS_ADDRESS"] ?? ""
        let runtime = environment["XDG_RUNTIME_DIR"] ?? ""
        var info = stat()
        let socket = !runtime.isEmpty && stat(runtime + "/bus", &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
        guard !address.isEmpty || socket else {
            throw .failure("there is no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set and there is no $XDG_RUNTIME_DIR/bus), so no keyring to reach; nothing was changed. Without a desktop session keep the key file, or use `notionauth vault key-command` with another helper")
        }
        guard HelperProcess.locate(Self.program, path: environment["PATH"] ?? "/usr/bin:/bin") != nil else {
            throw .failure("\(Self.program) is not in PATH; install it (Debian and Ubuntu: libsecret-tools; Fedora: libsecret) and try again. Nothing was changed")
        }
    }

    /// Stores `key` under the vault's path, replacing what was there, and reads it back.
    public func store(_ key: SecureBytes) throws(NotionauthError) {
        // On standard input, never in argv; without a newline, as the lookup prints it back.
        var text = Array(key.withUnsafeBytes { Sodium.base64Encode($0) }.utf8)
        defer { for i in text.indices { text[i] = 0 } }
        let label = "notionauth vault key (\(vaultPath))"
        try call([Self.program, "store", "--label=\(label)"] + attributes, input: .bytes(text), doing: "store the vault's key in the keyring", then: "; nothing was changed")
        let stored: SecureBytes
        do {
            stored = try runner.key(from: lookupCommand, origin: "its lookup", vaultPath: vaultPath, timeout: try timeout())
        } catch {
            try? clear()
            var reason = error.description
            if case let .vault(_, why) = error { reason = why }
            throw .failure("the keyring took the key but does not give it back: \(reason); nothing was changed")
        }
        guard stored.constantTimeEquals(key) else {
            try? clear()
            throw .failure("the keyring gives back another key than the one stored; nothing was changed")
        }
    }

    /// Removes the key stored under the vault's path (none is not an error).
    public func clear() throws(NotionauthError) {
        try call([Self.program, "clear"] + attributes, input: .none, doing: "remove the vault's key from the keyring")
    }

    /// The key command timeout, and no more than a few seconds where no one could answer a prompt.
    private func timeout() throws(NotionauthError) -> Double {
        let environment = runner.environment
        let headless = (environment["DISPLAY"] ?? "").isEmpty && (environment["WAYLAND_DISPLAY"] ?? "").isEmpty
        return min(try runner.timeout(vaultPath: vaultPath), headless ? Self.headlessTimeout : .infinity)
    }

    private func call(_ words: [String], input: HelperProcess.Input, doing what: String, then consequence: String = "") throws(NotionauthError) {
        let limit = try timeout()
        var finished: HelperProcess.Finished
        do {
            finished = try runner.run(words, input: input, timeout: limit)
        } catch {
            throw .failure("cannot \(what): \(Self.program) cannot be run: \(error.reason)\(consequence)")
        }
        defer { for i in finished.output.indices { finished.output[i] = 0 } }
        if let problem = finished.ending.problem(timeout: limit, outputLimit: KeyCommandRunner.outputLimit) {
            let hint = finished.ending == .timedOut ? " (is the keyring locked, or its daemon stuck?)" : ""
            throw .failure("cannot \(what): \(Self.program) \(problem)\(hint)\(consequence)")
        }
    }
}
