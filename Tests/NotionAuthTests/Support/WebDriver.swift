import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// A minimal W3C WebDriver client over plain HTTP + JSON, driving a headless Chromium through
/// a `chromedriver` started for one test (see shared/reference/testing.md).
///
/// Use `WebDriver.withSession { browser in … }`: it starts chromedriver on a free port with a
/// profile of its own, opens a session, and always deletes the session and stops chromedriver,
/// whether the body returns or throws.
final class WebDriver: @unchecked Sendable {
    static let chromedriverPath = ProcessInfo.processInfo.environment["NOTIONAUTH_CHROMEDRIVER"] ?? "/usr/bin/chromedriver"
    static let chromiumPath = ProcessInfo.processInfo.environment["NOTIONAUTH_CHROMIUM"] ?? "/usr/bin/chromium"

    /// The W3C key under which an element reference comes back.
    private static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    /// Headless, no sandbox (the tests run as root), and nothing that phones home: the
    /// browser may only talk to 127.0.0.1, and every host name fails to resolve.
    static func chromiumArguments(profile: String) -> [String] {
        [
            "--headless=new", "--no-sandbox", "--disable-gpu",
            "--user-data-dir=\(profile)",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-sync", "--metrics-recording-only",
            "--disable-default-apps", "--disable-component-update",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--window-size=1000,800",
        ]
    }

    let baseURL: String
    private(set) var sessionID: String?
    private let client = HTTPClient(eventLoopGroupProvider: .singleton)
    private let process: Process
    private let directory: String

    private init(port: Int, process: Process, directory: String) {
        self.baseURL = "http://127.0.0.1:\(port)"
        self.process = process
        self.directory = directory
    }

    /// Starts chromedriver and a browser session, runs `body`, then cleans up in every case.
    static func withSession<T>(_ body: (WebDriver) async throws -> T) async throws -> T {
        let driver = try await start()
        do {
            try await driver.createSession()
            let result = try await body(driver)
            await driver.stop()
            return result
        } catch {
            Issue.record("chromedriver log tail:\n\(driver.logTail())")
            await driver.stop()
            throw error
        }
    }

    /// Starts `chromedriver --port=PORT` and waits (bounded) until it reports ready.
    static func start(readyTimeoutSeconds: Double = 20) async throws -> WebDriver {
        var template = Array("/tmp/notionauth-webdriver-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw NotionauthError.failure("mkdtemp failed") }
        let directory = String(cString: made)
        let port = try Browserless.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromedriverPath)
        process.arguments = ["--port=\(port)", "--log-path=\(directory)/chromedriver.log"]
        var environment = ProcessInfo.processInfo.environment
        environment["DISPLAY"] = nil
        environment["HOME"] = directory
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: directory + "/chromedriver.out", contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/chromedriver.out"))
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw NotionauthError.failure("cannot start \(chromedriverPath): \(error)")
        }
        let driver = WebDriver(port: port, process: process, directory: directory)
        let deadline = Date().addingTimeInterval(readyTimeoutSeconds)
        while true {
            if let status = try? await driver.command("GET", "/status", timeoutSeconds: 2),
               status["ready"] as? Bool == true {
                return driver
            }
            if !process.isRunning || Date() > deadline {
                let log = driver.logTail()
                await driver.stop()
                throw NotionauthError.failure("chromedriver did not become ready on port \(port): \(log)")
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    func createSession() async throws {
        let profile = directory + "/profile"
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "timeouts": ["pageLoad": 30_000, "script": 10_000, "implicit": 0],
                    "goog:chromeOptions": [
                        "binary": Self.chromiumPath,
                        "args": Self.chromiumArguments(profile: profile),
                    ] as [String: Any],
                ] as [String: Any],
            ],
        ]
        let value = try await command("POST", "/session", capabilities, timeoutSeconds: 60)
        guard let id = value["sessionId"] as? String else {
            throw NotionauthError.failure("no sessionId in \(value)")
        }
        sessionID = id
    }

    // MARK: Session commands

    func navigate(to url: String) async throws {
        _ = try await sessionCommand("POST", "/url", ["url": url])
    }

    func currentURL() async throws -> String {
        try await sessionCommand("GET", "/url") as? String ?? ""
    }

    func pageSource() async throws -> String {
        try await sessionCommand("GET", "/source") as? String ?? ""
    }

    /// A PNG of the viewport.
    func screenshot() async throws -> Data {
        guard let base64 = try await sessionCommand("GET", "/screenshot") as? String,
              let png = Data(base64Encoded: base64) else {
            throw NotionauthError.failure("screenshot was not base64")
        }
        return png
    }

    /// The element reference for the first match of a CSS selector.
    func findElement(css selector: String) async throws -> String {
        let value = try await sessionCommand("POST", "/element", ["using": "css selector", "value": selector])
        guard let object = value as? [String: Any],
              let id = object[Self.elementKey] as? String ?? object.values.first as? String else {
            throw NotionauthError.failure("no element for \(selector): \(String(describing: value))")
        }
        return id
    }

    func type(_ text: String, into element: String) async throws {
        _ = try await sessionCommand("POST", "/element/\(element)/value", ["text": text])
    }

    func click(_ element: String) async throws {
        _ = try await sessionCommand("POST", "/element/\(element)/click", [String: Any]())
    }

    /// The rendered text of an element, as a person would read it.
    func text(of element: String) async throws -> String {
        try await sessionCommand("GET", "/element/\(element)/text") as? String ?? ""
    }

    /// Polls the current URL until `predicate` holds; gives up after `timeoutSeconds`.
    func waitForURL(timeoutSeconds: Double, _ predicate: (String) -> Bool) async throws -> String {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var last = ""
        while Date() < deadline {
            last = (try? await currentURL()) ?? last
            if predicate(last) { return last }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        var shown = ""
        if let body = try? await findElement(css: "body") { shown = (try? await text(of: body)) ?? "" }
        throw NotionauthError.failure("browser still at \(last) after \(timeoutSeconds)s, showing: \(shown.prefix(1000))")
    }

    // MARK: Cleanup

    /// Deletes the session (which quits Chromium), then stops chromedriver and removes its files.
    func stop() async {
        if let id = sessionID {
            sessionID = nil
            _ = try? await command("DELETE", "/session/\(id)", timeoutSeconds: 15)
        }
        // chromedriver's own shutdown command; SIGTERM from a Process child is not always
        // honoured (it sat out the whole grace period under the test runner), so that is
        // only the fallback, and SIGKILL the last resort.
        if process.isRunning {
            _ = try? await command("GET", "/shutdown", timeoutSeconds: 5)
            await waitForExit(seconds: 3)
        }
        try? await client.shutdown()
        if process.isRunning {
            process.terminate()
            await waitForExit(seconds: 2)
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            await waitForExit(seconds: 2)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func waitForExit(seconds: Double) async {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    func logTail(_ characters: Int = 4000) -> String {
        let log = (try? String(contentsOfFile: directory + "/chromedriver.log", encoding: .utf8))
            ?? (try? String(contentsOfFile: directory + "/chromedriver.out", encoding: .utf8)) ?? ""
        return String(log.suffix(characters))
    }

    // MARK: Wire

    private func sessionCommand(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        guard let id = sessionID else { throw NotionauthError.failure("no WebDriver session") }
        return try await command(method, "/session/\(id)\(path)", body)["value"].flatMap { $0 is NSNull ? nil : $0 }
    }

    /// Sends one command and returns `value`'s contents for `/status` and `/session`, or the
    /// whole response object otherwise; a W3C error becomes a thrown failure.
    @discardableResult
    private func command(_ method: String, _ path: String, _ body: [String: Any]? = nil, timeoutSeconds: Int64 = 30) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(Array(try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await client.execute(request, timeout: .seconds(timeoutSeconds))
        let bytes = try await response.body.collect(upTo: 32 << 20)
        let object = try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any] ?? [:]
        if let value = object["value"] as? [String: Any], let error = value["error"] as? String {
            throw NotionauthError.failure("WebDriver \(method) \(path): \(error): \(value["message"] as? String ?? "")")
        }
        guard response.status.code < 300 else {
            throw NotionauthError.failure("WebDriver \(method) \(path): HTTP \(response.status.code)")
        }
        if path == "/status" || path == "/session" {
            return object["value"] as? [String: Any] ?? [:]
        }
        return object
    }
}
