import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI
import NotionAuthPostgres

/// What a finished process or in-process run printed and how it ended.
struct RunResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A private HOME and config directory for one test, removed when the test ends.
final class Sandbox: @unchecked Sendable {
    let root: String
    var environment: [String: String]

    init() throws {
        var template = Array("/tmp/notionauth-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw NotionauthError.failure("mkdtemp failed") }
        root = String(cString: made)
        environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": root + "/home",
            "NOTIONAUTH_HOME": root + "/config",
            "NOTIONAUTH_NO_PROMPT": "1",
            "LANG": "C.UTF-8",
        ]
        try FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    var config: String { root + "/config" }
    var vaultPath: String { config + "/vault" }
    var keyPath: String { vaultPath + ".key" }
    var providersDirectory: String { config + "/providers" }

    /// Writes a provider override file into this sandbox's providers directory.
    func writeProvider(_ name: String, _ json: String) throws {
        // As notionauth itself would create it: 0700 (status warns about anything looser).
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.createDirectory(atPath: providersDirectory, withIntermediateDirectories: true)
        try json.write(toFile: "\(providersDirectory)/\(name).json", atomically: true, encoding: .utf8)
    }

    /// Runs notionauth in this process with captured streams (fast; no fork).
    func runInProcess(_ arguments: [String], stdin: String = "", environment extra: [String: String] = [:], now: Int64 = 1_790_000_000) async -> RunResult {
        let stdout = OutputSink()
        let stderr = OutputSink()
        let input = Array(stdin.utf8)
        var context = Context(
            environment: environment.merging(extra) { $1 },
            stdout: stdout, stderr: stderr,
            readStandardInput: { input },
            stdinIsTerminal: false, stdoutIsTerminal: false, stderrIsTerminal: false,
            promptSecret: { _ in nil },
            now: { now },
            http: AsyncHTTPTransport(),
            openBrowser: { _ in false })
        // As notionauth-postgres has them: the sandbox's store may be a database.
        context.storeOpeners = PostgresStore.openers
        let runContext = context
        // The commands are synchronous and block while they wait for the network or a lock.
        let status = (try? await offTheConcurrencyPool { Runner.run(arguments, context: runContext) }) ?? -1
        return RunResult(status: status, stdout: stdout.text, stderr: stderr.text)
    }

    /// Runs the built notionauth binary as a child process.
    func run(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:]) async throws -> RunResult {
        try await Binary.run(Binary.notionauth, arguments, stdin: stdin, environment: environment.merging(extra) { $1 }, directory: root)
    }

    /// Starts the binary without waiting, for tests that kill it.
    func start(_ arguments: [String], stdin: String? = nil) throws -> Process {
        try Binary.start(Binary.notionauth, arguments, stdin: stdin, environment: environment, directory: root).process
    }
}

enum Binary {
    /// The notionauth executable built next to the test bundle.
    static let notionauth: String = {
        let products = Bundle.main.bundleURL.deletingLastPathComponent()
        let candidate = products.appendingPathComponent("notionauth").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        // Swift Testing's runner may be the main bundle; fall back to the package layout.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/notionauth").path
    }()

    /// The MCP server executable that `notionauth mcp` runs, built beside notionauth.
    static var notionauthMCP: String {
        URL(fileURLWithPath: notionauth).deletingLastPathComponent().appendingPathComponent("notionauth-mcp").path
    }

    static let repositoryRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    struct Started {
        var process: Process
        var stdoutPath: String
        var stderrPath: String
    }

    /// Output goes to files, not pipes, so a chatty child can never block on a full pipe.
    static func start(_ executable: String, _ arguments: [String], stdin: String?, environment: [String: String], directory: String) throws -> Started {
        let id = UUID().uuidString
        let base = NSTemporaryDirectory() + "notionauth-proc-" + id
        let stdoutPath = base + ".out", stderrPath = base + ".err"
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var handles: [FileHandle] = []
        if let stdin {
            let stdinPath = base + ".in"
            FileManager.default.createFile(atPath: stdinPath, contents: Data(stdin.utf8))
            handles.append(try FileHandle(forReadingFrom: URL(fileURLWithPath: stdinPath)))
            process.standardInput = handles.last
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        handles.append(try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath)))
        process.standardOutput = handles.last
        handles.append(try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath)))
        process.standardError = handles.last
        try process.run()
        // The child has its own copies now. Foundation keeps finished Process objects, and
        // with them these handles, alive: left open they piled up past 1,024 descriptors in a
        // long run, where Foundation's select()-based process monitor overran its fd_set and
        // crashed the test process.
        for handle in handles { try? handle.close() }
        return Started(process: process, stdoutPath: stdoutPath, stderrPath: stderrPath)
    }

    static func run(_ executable: String, _ arguments: [String], stdin: String? = nil, environment: [String: String], directory: String, timeoutSeconds: Double = 60) async throws -> RunResult {
        let started = try start(executable, arguments, stdin: stdin, environment: environment, directory: directory)
        try await wait(started.process, timeoutSeconds: timeoutSeconds)
        return collect(started)
    }

    /// What it printed and its status. A process still running (a test that gave up on it)
    /// is killed first: Foundation traps on the status of a running process.
    static func collect(_ started: Started) -> RunResult {
        if started.process.isRunning {
            kill(started.process.processIdentifier, SIGKILL)
            started.process.waitUntilExit()
        }
        defer {
            try? FileManager.default.removeItem(atPath: started.stdoutPath)
            try? FileManager.default.removeItem(atPath: started.stderrPath)
        }
        return RunResult(
            status: started.process.terminationStatus,
            stdout: (try? String(contentsOfFile: started.stdoutPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: started.stderrPath, encoding: .utf8)) ?? "")
    }

    /// The pid a child wrote to `path` once it was ready, waiting up to `seconds` (a ceiling:
    /// on a loaded 2-core machine a start can take seconds); 0 if it never did.
    static func pid(writtenTo path: String, within seconds: Double = 30) async throws -> pid_t {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let pid = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap({ pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }), pid > 0 {
                return pid
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return 0
    }

    /// Waits without blocking a cooperative thread; kills the child if it overstays.
    static func wait(_ process: Process, timeoutSeconds: Double) async throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                Issue.record("process \(process.executableURL?.lastPathComponent ?? "") timed out after \(timeoutSeconds)s")
                throw NotionauthError.failure("timeout")
            }
            try await Task.sleep(nanoseconds: 5_000_000)
        }
    }
}

/// The key used by test vaults, so tests can open vaults without a key file.
enum TestKeys {
    static let fixed = Data((0..<32).map { UInt8($0) }).base64EncodedString()
}
