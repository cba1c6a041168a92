#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens URLs in the user's browser: `$BROWSER`, else `xdg-open`.
public enum BrowserOpener {
    /// No display, or a session over SSH: a browser would open far from the person, if at all.
    public static func mayOpen(environment: [String: String]) -> Bool {
        if !(environment["SSH_CONNECTION"] ?? "").isEmpty || !(environment["SSH_TTY"] ?? "").isEmpty { return false }
        #if os(Linux)
        return !(environment["DISPLAY"] ?? "").isEmpty || !(environment["WAYLAND_DISPLAY"] ?? "").isEmpty
        #else
        return true
        #endif
    }

    public static func open(_ url: String) -> Bool {
        #if os(macOS)
        let fallback = "open"
        #else
        let fallback = "xdg-open"
        #endif
        let browser = ProcessEnvironment.current()["BROWSER"].flatMap { $0.split(separator: ":").first.map(String.init) } ?? fallback
        return spawn(browser, [url])
    }

    /// Starts `program` (searched in PATH) with its output discarded; does not wait for it.
    static func spawn(_ program: String, _ arguments: [String]) -> Bool {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        return posix_spawnp(&pid, program, &actions, nil, argv, environ) == 0
    }
}
