@testable import NotionFakes
import Foundation
import NIOHTTP1
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// What a pasted line may be: the whole address the browser was sent back to, judged as the
/// listener judges a callback.
@Suite struct LoginPasteCheckTests {
    static let state = "n8Qq2Zr3kTt7pLw0yVb5xCs1dFg9hJm4aEu6iOo2rKc"
    static let check = CallbackCheck(host: "127.0.0.1", port: 7998, path: "/auth/callback/oauth", state: state)
    static let redirect = "http://127.0.0.1:7998/auth/callback/oauth"

    static func pasted(_ text: String) -> CallbackAnswer? { check.answer(pasted: Array(text.utf8)) }

    @Test func theWholeRedirectAddressWithThisLoginsStateGivesItsCode() {
        #expect(Self.pasted("\(Self.redirect)?code=abc-123&state=\(Self.state)") == .code("abc-123"))
        #expect(Self.pasted("\(Self.redirect)?state=\(Self.state)&code=a%2Bb+c") == .code("a+b c"), "decoded as the listener decodes a query")
    }

    @Test(arguments: [
        "  \(redirect)?code=abc&state=\(state)\r",
        "\u{1B}[200~\(redirect)?code=abc&state=\(state)\u{1B}[201~",
        "HTTP://LOCALHOST:7998/auth/callback/oauth?code=abc&state=\(state)",
        "\(redirect)?code=abc&state=\(state)#_=_",
    ])
    func whatABrowserOrTerminalAddsAroundTheAddressIsForgiven(line: String) {
        #expect(Self.pasted(line) == .code("abc"))
    }

    @Test(arguments: [
        "hello world",
        "code=abc&state=\(state)",
        "?code=abc&state=\(state)",
        "127.0.0.1:7998/auth/callback/oauth?code=abc&state=\(state)",
        "https://127.0.0.1:7998/auth/callback/oauth?code=abc&state=\(state)",
        "http://127.0.0.1:7999/auth/callback/oauth?code=abc&state=\(state)",
        "http://127.0.0.1/auth/callback/oauth?code=abc&state=\(state)",
        "http://127.0.0.1:7998/auth/callback/oauth/?code=abc&state=\(state)",
        "http://127.0.0.1:7998/auth/callback/%6Fauth?code=abc&state=\(state)",
        "http://127.0.0.1:7998/?code=abc&state=\(state)",
        "http://evil.example:7998/auth/callback/oauth?code=abc&state=\(state)",
        "http://127.0.0.1:7998@evil.example/auth/callback/oauth?code=abc&state=\(state)",
        "https://api.notion.com/v1/oauth/authorize?client_id=c&redirect_uri=http%3A%2F%2F127.0.0.1%3A7998%2Fauth%2Fcallback%2Foauth&state=\(state)",
        "\(redirect)?code=abc &state=\(state)",
        "\u{1B}]0;title\u{7}\(redirect)?code=abc&state=\(state)",
        "\(redirect)?code=ä&state=\(state)",
        "http://",
    ])
    func anythingButTheRedirectAddressIsRefused(line: String) {
        #expect(Self.pasted(line) == .notTheRedirectURI)
    }

    @Test func bytesThatAreNotUTF8AreRefusedNotACrash() {
        #expect(Self.check.answer(pasted: Array("\(Self.redirect)?code=".utf8) + [0xFF, 0xFE, 0x00] + Array("&state=\(Self.state)".utf8)) == .notTheRedirectURI)
        #expect(Self.check.answer(pasted: [UInt8](repeating: 0x41, count: 100_000)) == .notTheRedirectURI)
    }

    @Test func anotherLoginsStateOrNoneIsRefused() {
        #expect(Self.pasted("\(Self.redirect)?code=abc&state=forged") == .wrongState)
        #expect(Self.pasted("\(Self.redirect)?code=abc&state=\(Self.state.dropLast())") == .wrongState)
        #expect(Self.pasted("\(Self.redirect)?code=abc") == .wrongState)
        #expect(Self.pasted(Self.redirect) == .wrongState)
        #expect(Self.pasted("\(Self.redirect)?error=access_denied&state=forged") == .wrongState, "an error with a wrong state ends nothing")
    }

    @Test func aRefusalInTheBrowserIsTheProvidersError() {
        #expect(Self.pasted("\(Self.redirect)?error=access_denied&state=\(Self.state)") == .providerError(code: "access_denied", description: nil))
        #expect(Self.pasted("\(Self.redirect)?error=server_error&error_description=Try+again%21&state=\(Self.state)") == .providerError(code: "server_error", description: "Try again!"))
    }

    @Test func thisLoginsStateWithoutACodeIsRefused() {
        #expect(Self.pasted("\(Self.redirect)?state=\(Self.state)") == .noCode)
        #expect(Self.pasted("\(Self.redirect)?code=&state=\(Self.state)") == .noCode)
    }

    @Test(arguments: ["", "   ", "\r", "\u{1B}[200~\u{1B}[201~"])
    func aBlankLineIsNoAnswer(line: String) {
        #expect(Self.pasted(line) == nil)
    }

    @Test func anIPv6RedirectURIIsMatchedWithItsBrackets() {
        let check = CallbackCheck(host: "::1", port: 7998, path: "/cb", state: "s")
        #expect(check.answer(pasted: Array("http://[::1]:7998/cb?code=c&state=s".utf8)) == .code("c"))
        #expect(check.answer(pasted: Array("http://::1:7998/cb?code=c&state=s".utf8)) == .notTheRedirectURI)
    }

    /// One check for both ways back: what the listener hands the flow for a query is what a
    /// paste of the same address gives.
    @Test(arguments: ["code=abc&state=\(state)", "error=access_denied&state=\(state)", "code=abc&state=other", "state=\(state)", "code=a%2Bb+c&state=\(state)"])
    func theListenerAndThePasteAgree(query: String) throws {
        let listener = try CallbackListener(host: "127.0.0.1", port: 0, callbackPath: "/cb", state: Self.state, firstRunPage: nil)
        defer { listener.close() }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "127.0.0.1:\(listener.port)")
        let reply = listener.route(method: .GET, uri: "/cb?\(query)", headers: headers, body: [], respond: { _ in })
        let pasted = listener.check.answer(pasted: Array("http://127.0.0.1:\(listener.port)/cb?\(query)".utf8))
        switch listener.next(timeoutSeconds: 0) {
        case let .code(code, _)?:
            #expect(pasted == .code(code))
        case let .providerError(code, description, _)?:
            #expect(pasted == .providerError(code: code, description: description))
        default:
            guard case let .page(status, _)? = reply else { Issue.record("neither an event nor a page"); return }
            #expect(status == 400)
            #expect(pasted == .wrongState || pasted == .noCode)
        }
    }

    @Test func terminalLinesComeWithoutTheirLineEndings() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let lines = try #require(TerminalLines(fileDescriptor: ends[0]))
        let text = Array("first\r\nsecond\nthird".utf8)
        #expect(write(ends[1], text, text.count) == text.count)
        close(ends[1])
        #expect(lines.next() == Array("first".utf8))
        #expect(lines.next() == Array("second".utf8))
        #expect(lines.next() == Array("third".utf8), "the last line before end of input")
        #expect(lines.next() == nil)
    }

    @Test func cancelEndsAWaitForALineAtOnce() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[1]) }
        let lines = try #require(TerminalLines(fileDescriptor: ends[0]))
        async let line = offTheConcurrencyPool { lines.next() }
        try await Task.sleep(nanoseconds: 200_000_000)
        let cancelled = Date()
        lines.cancel()
        #expect(try await line == nil)
        // The pipe stays open, so without the cancel the read would never end; the bound only
        // leaves room for a loaded machine (a full run on 2 cores) to schedule the threads.
        #expect(Date().timeIntervalSince(cancelled) < 30)
    }
}

/// `login --paste`, and the paste prompt offered over SSH: the built binary on a real
/// pseudo-terminal (tmux), the test playing a browser on another machine that follows the
/// printed URL and gets the redirect's address, which it pastes rather than loads.
@Suite struct LoginPasteTests {
    static let client = ["NOTION_CLIENT_ID": BrowserLoginSetup.clientID, "NOTION_CLIENT_SECRET": BrowserLoginSetup.clientSecret]

    static func pasteLogin(_ setup: BrowserLoginSetup, extra: [String] = [], environment: [String: String] = client) async throws -> TerminalSession {
        try await TerminalSession(setup.sandbox, ["login", "notion", "--paste", "--port", String(setup.port), "--timeout", "60"] + extra, environment: environment)
    }

    /// The address the consent screen sends the browser to, never requested.
    static func redirectAddress<Endpoints>(_ server: FakeServer<Endpoints>, url: String) async throws -> String {
        let consent = try await server.authorizeLikeABrowser(url: url)
        return try #require(consent.location, "no redirect from the consent screen (\(consent.status))")
    }

    @Test func aPastedAddressLogsIn() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let terminal = try await Self.pasteLogin(setup)
        let url = try await terminal.printedURL()
        #expect(url.hasPrefix(setup.server.baseURL + "/v1/oauth/authorize?"))
        let screen = try await terminal.waitFor("Paste the address (waiting up to 1:00, Ctrl-C to cancel): ")
        #expect(screen.contains("copy the address from its address bar and paste it here"))
        let address = try await Self.redirectAddress(setup.server, url: url)
        #expect(address.hasPrefix(setup.redirectURI + "?code="))
        try await terminal.type(address)
        try await terminal.expectExit(0)
        let after = try await terminal.screen()
        #expect(after.contains("Logged in to Notion (workspace Fake Workspace) as connection 'default'."))
        #expect(!after.contains("s3cret-value"))
        // The code appears once: the terminal's echo of the paste, never repeated by notionauth.
        let code = try #require(URLComponents(string: address)?.queryItems?.first { $0.name == "code" }?.value)
        #expect(after.components(separatedBy: code).count == 2)
        let settings = try terminal.terminalSettings()
        #expect(settings.before == settings.after, "the terminal's settings are as they were")
        #expect(setup.server.requestCount(path: "/v1/oauth/token") == 1)
        let token = try await setup.sandbox.run(["get", "notion", "--field", "access_token"])
        #expect(token.status == 0)
        #expect(!token.stdout.isEmpty)
    }

    @Test func anAddressWithAnotherStateIsRefusedAndTheLoginKeepsWaiting() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let terminal = try await Self.pasteLogin(setup)
        let address = try await Self.redirectAddress(setup.server, url: try await terminal.printedURL())
        var forged = try #require(URLComponents(string: address))
        forged.queryItems = forged.queryItems?.map { $0.name == "state" ? URLQueryItem(name: "state", value: "Zm9yZ2VkLXN0YXRlLW9mLWFub3RoZXItbG9naW4tMDAw") : $0 }
        try await terminal.type(try #require(forged.string))
        try await terminal.waitFor("warning: that address is not from this login (its state does not match)")
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(terminal.status == nil, "still waiting")
        #expect(setup.server.requestCount(path: "/v1/oauth/token") == 0, "a code with the wrong state is never exchanged")
        try await terminal.type(address)
        try await terminal.expectExit(0)
    }

    @Test func aPastedAccessDeniedExits4() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        setup.server.setDenyConsent(true)
        let terminal = try await Self.pasteLogin(setup)
        let address = try await Self.redirectAddress(setup.server, url: try await terminal.printedURL())
        #expect(address.contains("error=access_denied"))
        try await terminal.type(address)
        try await terminal.expectExit(4)
        #expect(try await terminal.screen().contains("the authorization was refused in the browser (access_denied"))
        #expect(!FileManager.default.fileExists(atPath: setup.sandbox.vaultPath))
    }

    @Test func garbageIsRefusedInOneLineAndTheLoginKeepsWaiting() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let terminal = try await Self.pasteLogin(setup)
        let url = try await terminal.printedURL()
        let address = try await Self.redirectAddress(setup.server, url: url)
        let state = try #require(URLComponents(string: address)?.queryItems?.first { $0.name == "state" }?.value)
        let garbage = [
            "hello-garbage-1",
            url,
            "http://127.0.0.1:\(setup.port)/elsewhere?code=xyz&state=\(state)",
            "code=xyz&state=\(state)",
            "\(setup.redirectURI)?state=\(state)",
        ]
        for line in garbage { try await terminal.type(line) }
        try await terminal.type("")
        let screen = try await terminal.waitFor("carries no authorization code")
        #expect(screen.components(separatedBy: "warning: that is not the address the browser is sent back to; paste the whole address, starting \(setup.redirectURI)?").count == 5)
        #expect(screen.components(separatedBy: "hello-garbage-1").count == 2, "the terminal's echo, never repeated")
        #expect(terminal.status == nil)
        try await terminal.type(address)
        try await terminal.expectExit(0)
        #expect(setup.server.requestCount(path: "/v1/oauth/token") == 1)
    }

    /// Over SSH the prompt comes by itself; a browser that can reach the listener (a
    /// forwarded port) still ends the login, and the prompt goes without a trace.
    @Test func overSSHTheListenerAnsweringFirstEndsThePrompt() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        var environment = Self.client
        environment["SSH_CONNECTION"] = "192.0.2.1 50000 192.0.2.2 22"
        let terminal = try await TerminalSession(setup.sandbox, ["login", "notion", "--port", String(setup.port), "--timeout", "60"], environment: environment)
        let url = try await terminal.printedURL()
        try await terminal.waitFor("Paste the address (waiting up to 1:00")
        try await terminal.type("half-pasted", enter: false)
        let address = try await Self.redirectAddress(setup.server, url: url)
        let page = try await Browserless.request(address)
        #expect(page.status == 200)
        try await terminal.expectExit(0)
        #expect(try await terminal.screen().contains("Logged in to Notion"))
        let settings = try terminal.terminalSettings()
        #expect(settings.before == settings.after)
        #expect(try await terminal.leftForTheShell() == "", "what was typed at the prompt is not run by the shell")
    }

    @Test func notionMCPLogsInWithAPastedAddress() async throws {
        let setup = try await MCPLoginSetup.start()
        defer { setup.server.stopNow() }
        let terminal = try await TerminalSession(setup.sandbox, ["login", "notion-mcp", "--paste", "--port", String(setup.port), "--timeout", "60"])
        let url = try await terminal.printedURL()
        #expect(url.hasPrefix(setup.server.baseURL + "/authorize?"))
        try await terminal.waitFor("Paste the address")
        try await terminal.type(try await Self.redirectAddress(setup.server, url: url))
        try await terminal.expectExit(0)
        let status = try await setup.sandbox.run(["get", "notion-mcp", "--field", "status"])
        #expect(status.stdout == "connected\n")
    }

    /// Another login holds the port: the browser cannot come back, but a paste can.
    @Test func aBusyPortLeavesThePasteAlone() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let holder = try setup.login()
        _ = try await holder.printedURL()
        defer { holder.started.process.terminate() }
        let terminal = try await Self.pasteLogin(setup)
        let url = try await terminal.printedURL()
        try await terminal.waitFor("warning: cannot listen for the browser on 127.0.0.1:\(setup.port) (another login waiting?); paste the address it is sent back to instead")
        try await terminal.waitFor("which this login cannot receive itself")
        try await terminal.type(try await Self.redirectAddress(setup.server, url: url))
        try await terminal.expectExit(0)
    }

    @Test func theTimeoutAppliesToThePasteToo() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let terminal = try await TerminalSession(setup.sandbox, ["login", "notion", "--paste", "--port", String(setup.port), "--timeout", "2"], environment: Self.client)
        try await terminal.expectExit(4)
        #expect(try await terminal.screen().contains("no answer from the browser or the terminal within 2 s"))
        let settings = try terminal.terminalSettings()
        #expect(settings.before == settings.after)
    }

    /// Without a terminal (no controlling one: setsid) --paste fails before it fetches,
    /// registers or listens; so it does when prompts are forbidden.
    @Test func withoutATerminalPasteFailsAtOnce() async throws {
        let setup = try await MCPLoginSetup.start()
        defer { setup.server.stopNow() }
        var environment = setup.sandbox.environment
        environment.removeValue(forKey: "NOTIONAUTH_NO_PROMPT")
        let started = Date()
        let result = try await Binary.run("/usr/bin/setsid", ["-w", Binary.notionauth, "login", "notion-mcp", "--paste", "--port", String(setup.port)], environment: environment, directory: setup.sandbox.root)
        #expect(result.status == 2)
        #expect(result.stderr.contains("--paste needs a terminal to paste into, and there is none"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 10)
        let forbidden = try await setup.sandbox.run(["login", "notion-mcp", "--paste", "--port", String(setup.port)])
        #expect(forbidden.status == 2)
        #expect(forbidden.stderr.contains("NOTIONAUTH_NO_PROMPT"))
        #expect(setup.server.registrationCount() == 0)
        #expect(!forbidden.stderr.contains("http://"))
    }

    /// Over SSH with standard input not a terminal (a script), nothing is offered: the
    /// listener alone, as before.
    @Test func overSSHWithoutATerminalTheListenerWaitsAlone() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let running = try setup.login(environment: ["SSH_CONNECTION": "192.0.2.1 50000 192.0.2.2 22"])
        #expect(try await running.completeInBrowser(at: setup.server).status == 0)
        #expect(!running.stderr.contains("Paste the address"))
    }

    @Test func pasteWithoutClientCredentialsIsAUsageError() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let login = try PipedTerminalLogin(setup.sandbox, ["login", "notion", "--paste", "--port", String(setup.port)])
        #expect(try await login.status() == 2)
        #expect(login.stderr.text.contains("--paste needs the client ID and secret beforehand (--client-id ID --client-secret-stdin, or NOTION_CLIENT_ID and NOTION_CLIENT_SECRET)"), "\(login.stderr.text)")
        #expect(!login.stderr.text.contains("http://"))
    }

    /// In-process, the terminal a pipe: the flow the pty tests see, without tmux.
    @Test func inProcessAPastedLineAfterGarbageLogsIn() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let login = try PipedTerminalLogin(setup.sandbox, ["login", "notion", "--paste", "--port", String(setup.port), "--timeout", "60", "--client-id", BrowserLoginSetup.clientID, "--client-secret-stdin"], stdin: BrowserLoginSetup.clientSecret)
        let address = try await Self.redirectAddress(setup.server, url: try await login.printedURL())
        for line in ["garbage", address.replacingOccurrences(of: "state=", with: "state=x"), "", address] { login.paste(line) }
        #expect(try await login.status() == 0, "\(login.stderr.text)")
        #expect(login.stderr.text.contains("warning: that is not the address the browser is sent back to"))
        #expect(login.stderr.text.contains("warning: that address is not from this login"))
        #expect(login.stderr.text.components(separatedBy: "Paste the address (waiting up to 1:00, Ctrl-C to cancel): ").count == 5, "asked again after each line")
        #expect(login.stderr.text.hasSuffix("Paste the address (waiting up to 1:00, Ctrl-C to cancel): Logged in to Notion (workspace Fake Workspace) as connection 'default'.\n"))
        #expect(setup.server.requestCount(path: "/v1/oauth/token") == 1)
    }

    /// Ctrl-D at the prompt ends the login, as at any prompt.
    @Test func inProcessEndOfInputEndsTheLogin() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let login = try PipedTerminalLogin(setup.sandbox, ["login", "notion", "--paste", "--port", String(setup.port), "--timeout", "60", "--client-id", BrowserLoginSetup.clientID, "--client-secret-stdin"], stdin: BrowserLoginSetup.clientSecret)
        _ = try await login.printedURL()
        login.endInput()
        #expect(try await login.status() == 4)
        #expect(login.stderr.text.contains("no address was pasted (end of input on the terminal); nothing was stored"))
        #expect(!FileManager.default.fileExists(atPath: setup.sandbox.vaultPath))
    }
}

/// `notionauth` run by the runner in this process, with the real clock, its terminal a pipe
/// the test writes lines to.
final class PipedTerminalLogin: @unchecked Sendable {
    let stderr = OutputSink()
    private var writeEnd: Int32
    private let run: Task<Int32, Error>

    init(_ sandbox: Sandbox, _ arguments: [String], stdin: String = "") throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw NotionauthError.failure("pipe") }
        writeEnd = ends[1]
        let input = Array(stdin.utf8)
        var environment = sandbox.environment
        environment.removeValue(forKey: "NOTIONAUTH_NO_PROMPT")
        var context = Context(
            environment: environment, stdout: OutputSink(), stderr: stderr,
            readStandardInput: { input }, stdinIsTerminal: false, stdoutIsTerminal: false, stderrIsTerminal: false,
            promptSecret: { _ in nil }, now: { Int64(Date().timeIntervalSince1970) }, http: AsyncHTTPTransport(), openBrowser: { _ in false })
        let readEnd = ends[0]
        context.openTerminal = { TerminalLines(fileDescriptor: readEnd) }
        let runContext = context
        run = Task { try await offTheConcurrencyPool { Runner.run(arguments, context: runContext) } }
    }

    deinit { endInput() }

    func printedURL() async throws -> String {
        for _ in 0..<1200 {
            if let line = stderr.text.split(separator: "\n").first(where: { $0.hasPrefix("http") }) { return String(line) }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        Issue.record("no URL printed: \(stderr.text)")
        throw NotionauthError.failure("no URL")
    }

    func paste(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = write(writeEnd, bytes, bytes.count)
    }

    /// As Ctrl-D on a terminal.
    func endInput() {
        if writeEnd >= 0 { close(writeEnd) }
        writeEnd = -1
    }

    func status() async throws -> Int32 { try await run.value }
}
