@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// Browser login end to end: the real binary, a fake Notion on loopback, and the test
/// playing the browser by following the printed URL.
@Suite struct LoginBrowserTests {
    @Test func codeFlowStoresTheWholeTokenResponseAndTheClient() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let running = try setup.login()
        let url = try await running.printedURL()
        #expect(url.hasPrefix(setup.server.baseURL + "/v1/oauth/authorize?"))
        let query = URLComponents(string: url)!.queryItems!
        let state = query.first { $0.name == "state" }!.value!
        #expect(state.count >= 22)
        #expect(query.contains { $0.name == "owner" && $0.value == "user" })
        #expect(query.contains { $0.name == "redirect_uri" && $0.value == setup.redirectURI })
        #expect(!query.contains { $0.name == "code_challenge" }, "Notion does not support PKCE")

        let callback = try await running.approveInBrowser(at: setup.server, url: url)
        #expect(callback.status == 200)
        #expect(callback.body.contains("Logged in to Notion"))
        #expect(callback.body.contains("Fake Workspace"))

        let result = try await running.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("Logged in to Notion (workspace Fake Workspace) as connection 'default'."))
        #expect(!result.stderr.contains("s3cret-value"))

        let token = try #require(setup.server.lastRequest(path: "/v1/oauth/token"))
        #expect(token.headers["authorization"] == "Basic " + Data("client-1:s3cret-value".utf8).base64EncodedString())
        #expect(token.headers["notion-version"] == "2025-09-03")
        #expect(token.headers["content-type"]?.hasPrefix("application/json") == true)
        let body = try JSONValue.parse(token.body)
        #expect(body["grant_type"] == .string("authorization_code"))
        #expect(body["redirect_uri"] == .string(setup.redirectURI))

        let json = try JSONValue.parse(Array(try await setup.sandbox.run(["get", "notion", "--json", "--show-secrets"]).stdout.utf8))
        let connection = try #require(json["connection"])
        #expect(connection["kind"] == .string("oauth"))
        #expect(connection["workspace_name"] == .string("Fake Workspace"))
        #expect(connection["workspace_icon"] == .string("🦊"))
        #expect(connection["refresh_token"]?.stringValue?.hasPrefix("nrt_") == true)
        #expect(connection["bot_id"]?.stringValue != nil)
        #expect(connection["bot_id"]?.stringValue == setup.server.botID(clientID: "client-1"))
        #expect(connection["owner"]?["type"] == .string("user"))
        #expect(connection["client_id"] == .string("client-1"))

        // The client is kept: the next login needs no flags.
        let again = try RunningLogin(setup.sandbox, ["login", "notion", "--no-browser", "--port", String(setup.port), "--force", "--timeout", String(BrowserLoginSetup.loginTimeoutSeconds)])
        let secondURL = try await again.printedURL()
        #expect(secondURL.contains("client_id=client-1"))
        try await again.approveInBrowser(at: setup.server, url: secondURL)
        #expect(try await again.finish().status == 0)
    }

    @Test func alreadyLoggedInSaysSoAndStartsNoFlow() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        #expect(try await setup.sandbox.run(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_existing_token_abcdef").status == 0)
        let result = try await setup.sandbox.run(["login", "notion", "--no-browser", "--port", String(setup.port)])
        #expect(result.status == 0)
        #expect(result.stderr.contains("Already logged in to Notion"))
        #expect(!result.stderr.contains("http://"))
    }

    @Test func strayPathsGet404AndWrongStateGets400WhileTheLoginWaits() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let running = try setup.login()
        let url = try await running.printedURL()
        let base = "http://127.0.0.1:\(setup.port)"
        #expect(try await Browserless.request(base + "/favicon.ico").status == 404)
        #expect(try await Browserless.request(base + "/").status == 404)
        let consent = try await setup.server.authorizeLikeABrowser(url: url)
        let location = try #require(consent.location)
        let code = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value)
        let forged = try await Browserless.request(base + "/auth/callback/oauth?code=\(code)&state=forged")
        #expect(forged.status == 400)
        #expect(try await Browserless.request(base + "/auth/callback/oauth?code=\(code)").status == 400)
        #expect(setup.server.requestCount(path: "/v1/oauth/token") == 0, "a code with the wrong state must never be exchanged")
        #expect(running.started.process.isRunning)
        #expect(try await Browserless.request(location).status == 200)
        #expect(try await running.finish().status == 0)
    }

    @Test func deniedConsentExits4AndStoresNothing() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        setup.server.setDenyConsent(true)
        let running = try setup.login()
        let page = try await running.approveInBrowser(at: setup.server)
        #expect(page.status == 400)
        #expect(page.body.contains("access_denied"))
        let result = try await running.finish()
        #expect(result.status == 4)
        #expect(result.stderr.contains("the authorization was refused in the browser (access_denied"))
        #expect(!FileManager.default.fileExists(atPath: setup.sandbox.vaultPath))
    }

    @Test func badClientSecretExits4WithAHint() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let running = try setup.login(secret: "wrong-secret")
        let page = try await running.approveInBrowser(at: setup.server)
        #expect(page.status == 400)
        let result = try await running.finish()
        #expect(result.status == 4)
        #expect(result.stderr.contains("invalid_client"))
        #expect(result.stderr.contains("--reset-client"))
        #expect(!result.stderr.contains("wrong-secret"))
    }

    @Test func reusedCodeIsRefusedByTheServerAndExits4() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let first = try setup.login()
        let firstLocation = try #require(try await setup.server.authorizeLikeABrowser(url: try await first.printedURL()).location)
        #expect(try await Browserless.request(firstLocation).status == 200)
        #expect(try await first.finish().status == 0)
        let oldCode = try #require(URLComponents(string: firstLocation)?.queryItems?.first { $0.name == "code" }?.value)

        let second = try setup.login(extra: ["--force"])
        let state = try #require(URLComponents(string: try await second.printedURL())?.queryItems?.first { $0.name == "state" }?.value)
        let page = try await Browserless.request("http://127.0.0.1:\(setup.port)/auth/callback/oauth?code=\(oldCode)&state=\(state)")
        #expect(page.status == 400)
        let result = try await second.finish()
        #expect(result.status == 4)
        #expect(result.stderr.contains("invalid_grant"))
    }

    @Test func busyPortFailsAtOnceNamingThePort() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let holder = try setup.login()
        _ = try await holder.printedURL()
        let started = Date()
        let result = try await setup.login(extra: ["--force"]).finish()
        #expect(result.status == 1)
        #expect(result.stderr.contains("port \(setup.port)"))
        #expect(result.stderr.contains("--port"))
        // "At once" against the 60 s it would otherwise wait; the bound leaves room for a
        // machine busy with the rest of the suite.
        #expect(Date().timeIntervalSince(started) < 10)
        holder.started.process.terminate()
    }

    @Test func timeoutExits4AndReleasesThePort() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let running = try setup.login(extra: ["--timeout", "1"])
        let result = try await running.finish()
        #expect(result.status == 4)
        #expect(result.stderr.contains("no answer from the browser within 1 s"))
        // The port is free again: a new login can listen on it.
        let next = try setup.login(extra: ["--timeout", "1"])
        _ = try await next.printedURL()
        #expect(try await next.finish().status == 4)
    }

    @Test func interruptExits130AndReleasesThePort() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let running = try setup.login()
        _ = try await running.printedURL()
        kill(running.started.process.processIdentifier, SIGINT)
        let result = try await running.finish()
        #expect(result.status == 130)
        let next = try setup.login(extra: ["--timeout", "1"])
        _ = try await next.printedURL()
        #expect(try await next.finish().status == 4)
    }

    @Test func clientCredentialsFromTheEnvironmentNeedNoFlags() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let running = try setup.login(secret: nil, environment: ["NOTION_CLIENT_ID": "client-1", "NOTION_CLIENT_SECRET": "s3cret-value"])
        let url = try await running.printedURL()
        #expect(url.contains("client_id=client-1"))
        try await running.approveInBrowser(at: setup.server, url: url)
        #expect(try await running.finish().status == 0)
    }

    /// Without any client credentials the listener serves the first-run page at `/`;
    /// submitting it sends the browser straight on to the consent screen.
    @Test func firstRunPageTakesCredentialsAndRefusesCrossSitePosts() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let running = try setup.login(secret: nil)
        let url = try await running.printedURL()
        #expect(url == "http://127.0.0.1:\(setup.port)/")
        let page = try await Browserless.request(url)
        #expect(page.status == 200)
        #expect(page.body.contains(setup.redirectURI))
        #expect(page.body.contains("type=\"password\""))
        let csrf = try #require(page.body.range(of: #"name="csrf_token" value=""#).map { String(page.body[$0.upperBound...].prefix { $0 != "\"" }) })

        let form = "client_id=client-1&client_secret=s3cret-value"
        let noToken = try await Browserless.request(url, method: "POST", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: form)
        #expect(noToken.status == 403)
        let crossSite = try await Browserless.request(url, method: "POST", headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", "https://evil.example")], body: form + "&csrf_token=\(csrf)")
        #expect(crossSite.status == 403)

        let submitted = try await Browserless.request(url, method: "POST", headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", "http://127.0.0.1:\(setup.port)")], body: form + "&csrf_token=\(csrf)")
        #expect(submitted.status == 303)
        let consentURL = try #require(submitted.location)
        #expect(consentURL.hasPrefix(setup.server.baseURL + "/v1/oauth/authorize?"))
        try await running.approveInBrowser(at: setup.server, url: consentURL)
        #expect(try await running.finish().status == 0)

        let vault = await setup.sandbox.vault()
        let client = try #require(try vault.open().clientCredentials(provider: "notion"))
        #expect(client.clientID == "client-1")
        #expect(client.clientSecret == "s3cret-value")
    }

    @Test func resetClientForgetsStoredCredentials() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        #expect(try await setup.login().completeInBrowser(at: setup.server).status == 0)
        // Without --force too: forgetting the client means logging in again.
        let reset = try setup.login(extra: ["--reset-client", "--timeout", "1"], secret: nil)
        #expect(try await reset.printedURL() == "http://127.0.0.1:\(setup.port)/")
        #expect(try await reset.finish().status == 4)
    }

    @Test func anAbsurdExpiresInIsIgnoredNotACrash() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        setup.server.failNext(path: "/v1/oauth/token", status: 200, body: #"{"access_token":"ntn_huge_expiry_token_000001","token_type":"bearer","refresh_token":"nrt_x","bot_id":"b","workspace_id":"w","expires_in":9223372036854775807}"#)
        let running = try setup.login()
        try await running.approveInBrowser(at: setup.server)
        let result = try await running.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONValue.parse(Array(try await setup.sandbox.run(["get", "notion", "--json"]).stdout.utf8))
        #expect(json["connection"]?["expires_at"] == nil)
    }

    /// On a desktop's terminal the wait shows a countdown; `script` gives the login a real
    /// pty. (Without a display, the paste prompt replaces it: LoginPasteTests.)
    @Test func aTerminalShowsHowLongIsLeft() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let command = "\(Binary.notionauth) login notion --no-browser --port \(setup.port) --timeout 2"
        var environment = setup.sandbox.environment
        environment["NOTION_CLIENT_ID"] = "client-1"
        environment["NOTION_CLIENT_SECRET"] = "s3cret-value"
        environment.removeValue(forKey: "NOTIONAUTH_NO_PROMPT")
        environment["DISPLAY"] = ":0"
        let result = try await Binary.run("/usr/bin/script", ["-qec", command, "/dev/null"], environment: environment, directory: setup.sandbox.root)
        #expect(result.stdout.contains("Waiting for the browser… 0:02 left"), "\(result.stdout)")
        #expect(result.stdout.contains("0:01 left"))
        #expect(result.stdout.contains("no answer from the browser within 2 s"))
        #expect(!result.stdout.contains("s3cret-value"))
    }

    @Test func errorPagesEscapeWhatTheProviderSent() {
        let html = Pages.failure(provider: "Notion", message: "<script>alert('x')</script> & \"quotes\"")
        #expect(!html.contains("<script>alert"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"))
    }

    @Test func aTokenAnswerWithControlCharactersIsRefusedAndNeverPrinted() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        setup.server.failNext(path: "/v1/oauth/token", status: 200, body: #"{"access_token":"ntn_leak\u0001me","token_type":"bearer","bot_id":"b","workspace_id":"w"}"#, headers: [("Content-Type", "application/json")])
        let running = try setup.login()
        try await running.approveInBrowser(at: setup.server)
        let result = try await running.finish()
        #expect(result.status == 1)
        #expect(result.stderr.contains("unusable access_token"))
        #expect(!result.stderr.contains("ntn_leak"))
        #expect(try await setup.sandbox.run(["get", "notion", "--field", "status"]).stdout == "not_connected\n")
    }

    @Test func aCallbackErrorDescriptionIsShownWithoutControlCharacters() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let running = try setup.login()
        let url = try await running.printedURL()
        let state = try #require(URLComponents(string: url)?.queryItems?.first { $0.name == "state" }?.value)
        let hostile = "access_denied&error_description=" + URLEncoding.component("no\u{1B}[2J\nerror: forged")
        _ = try await Browserless.request("\(setup.redirectURI)?state=\(URLEncoding.component(state))&error=\(hostile)")
        let result = try await running.finish()
        #expect(result.status == 4)
        #expect(!result.stderr.contains("\u{1B}[2J"))
        #expect(!result.stderr.contains("\nerror: forged"))
    }

    @Test func basicClientAuthenticationFormEncodesTheIdAndSecretFirst() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        setup.server.registerClient(id: "urn:client:1", secret: "s3cret value+%&", redirectURIs: [setup.redirectURI])
        let running = try RunningLogin(setup.sandbox, ["login", "notion", "--no-browser", "--port", String(setup.port), "--timeout", String(BrowserLoginSetup.loginTimeoutSeconds), "--client-id", "urn:client:1", "--client-secret-stdin"], stdin: "s3cret value+%&")
        try await running.approveInBrowser(at: setup.server)
        let result = try await running.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let header = try #require(setup.server.lastRequest(path: "/v1/oauth/token")?.headers["authorization"])
        #expect(header == "Basic " + Data("urn%3Aclient%3A1:s3cret+value%2B%25%26".utf8).base64EncodedString())
    }

    @Test(arguments: ["2f1e1c2b-7a52-4c83-9d2f-3c1e0b9a8d7e", "secret_AbCdEf0123456789xyzXYZ", "ntn_123_abc-DEF.ghi~"])
    func notionsOwnIdsAndSecretsAreUnchangedByTheEncoding(value: String) {
        #expect(URLEncoding.formComponent(value) == value)
    }

    @Test func aTokenAnswerOf200WithAnErrorIsReportedWithItsCode() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        setup.server.failNext(path: "/v1/oauth/token", status: 200, body: #"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}"#, headers: [("Content-Type", "application/json")])
        let running = try setup.login()
        try await running.approveInBrowser(at: setup.server)
        let result = try await running.finish()
        #expect(result.status != 0)
        #expect(result.stderr.contains("The code passed is incorrect or expired. (bad_verification_code)"))
        #expect(!result.stderr.contains("without an access token"))
    }

    @Test func aFormEncodedErrorDescriptionIsDecodedBeforeItIsShown() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        setup.server.failNext(path: "/v1/oauth/token", status: 400, body: "error=invalid_grant&error_description=The+code+has+expired%21+Start+again.", headers: [("Content-Type", "application/x-www-form-urlencoded")])
        let running = try setup.login()
        try await running.approveInBrowser(at: setup.server)
        let result = try await running.finish()
        #expect(result.status == 4)
        #expect(result.stderr.contains("The code has expired! Start again. (invalid_grant)"), "\(result.stderr)")
    }
}
