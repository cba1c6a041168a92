@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// The first-run page in a real browser: headless Chromium (driven over WebDriver) opens the
/// page `notionauth login` prints, fills in the form, follows the redirects through the fake
/// Notion's consent screen to the success page; the test checks the page text and the vault,
/// and keeps screenshots of both pages.
@Suite struct FirstRunPageBrowserTests {
    /// `$NOTIONAUTH_TEST_ARTIFACTS`, else `<repository>/.build/test-artifacts`.
    static var artifactsDirectory: String {
        if let directory = ProcessInfo.processInfo.environment["NOTIONAUTH_TEST_ARTIFACTS"], !directory.isEmpty {
            return directory
        }
        return Binary.repositoryRoot + "/.build/test-artifacts"
    }

    /// Writes the PNG into the artifacts directory and attaches it to the test.
    static func keep(_ png: Data, as name: String) throws {
        try FileManager.default.createDirectory(atPath: artifactsDirectory, withIntermediateDirectories: true)
        try png.write(to: URL(fileURLWithPath: artifactsDirectory + "/" + name))
        Attachment.record(png, named: name)
    }

    static func isPNG(_ data: Data) -> Bool {
        data.count > 1000 && data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    @Test(.timeLimit(.minutes(2)))
    func firstRunPageInHeadlessChromiumLogsIn() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let origin = "http://127.0.0.1:\(setup.port)"
        var running: RunningLogin?
        do {
            // No client credentials: the login serves the first-run page and prints its URL.
            let login = try RunningLogin(setup.sandbox, ["login", "notion", "--no-browser", "--port", String(setup.port), "--timeout", "60"], stdin: nil)
            running = login
            let url = try await login.printedURL()
            #expect(url == origin + "/")

            try await WebDriver.withSession { browser in
                try await browser.navigate(to: url)
                let form = try await browser.screenshot()
                #expect(Self.isPNG(form))
                try Self.keep(form, as: "first-run-form.png")
                let source = try await browser.pageSource()
                #expect(source.contains(setup.redirectURI))
                #expect(try await browser.text(of: try await browser.findElement(css: "#redirect_uri")) == setup.redirectURI)

                try await browser.type("client-1", into: try await browser.findElement(css: "#client_id"))
                try await browser.type("s3cret-value", into: try await browser.findElement(css: "#client_secret"))
                try await browser.click(try await browser.findElement(css: "#submit"))

                // POST / → 303 to the fake authorize → 302 to the callback → success page.
                let landed = try await browser.waitForURL(timeoutSeconds: 20) { $0.hasPrefix(setup.redirectURI) }
                #expect(landed.contains("code="))
                let heading = try await browser.text(of: try await browser.findElement(css: "h1#result"))
                #expect(heading == "Logged in to Notion")
                let text = try await browser.text(of: try await browser.findElement(css: "body"))
                #expect(text.contains("Logged in to Notion"))
                #expect(text.contains("Fake Workspace"))
                #expect(!text.contains("s3cret-value"))
                let success = try await browser.screenshot()
                #expect(Self.isPNG(success))
                try Self.keep(success, as: "first-run-success.png")
            }

            let result = try await login.finish()
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("Logged in to Notion (workspace Fake Workspace)"))
            #expect(!result.stderr.contains("s3cret-value"))
            // The browser took the whole trip: the fake saw the authorize and the token exchange.
            #expect(setup.server.requestCount(path: "/v1/oauth/authorize") == 1)
            #expect(setup.server.requestCount(path: "/v1/oauth/token") == 1)

            let status = try await setup.sandbox.run(["get", "notion", "--field", "status"])
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "connected")
            let vault = await setup.sandbox.vault()
            let client = try #require(try vault.open().clientCredentials(provider: "notion"))
            #expect(client.clientID == "client-1")
            #expect(client.clientSecret == "s3cret-value")
        } catch {
            if let process = running?.started.process, process.isRunning {
                Issue.record("login stderr: \(running?.stderr ?? "")")
                process.terminate()
            }
            throw error
        }
    }
}
