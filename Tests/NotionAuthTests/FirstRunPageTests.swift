@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// The first-run page and the callback against other local processes: a real `login`
/// waiting on loopback, requests over real HTTP.
@Suite struct FirstRunPageTests {
    struct Response {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: String

        func header(_ name: String) -> [String] { headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value) }
    }

    /// Sends `request` as it is (any Host, or none) and reads the whole answer; the
    /// listener closes every connection after one response.
    static func exchange(_ port: Int, _ request: String) -> Response? {
        guard let fd = Loopback.connect(port) else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { return nil }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return Response(status: status, headers: headers, body: String(text[split.upperBound...]))
    }

    static func get(_ port: Int, _ target: String, host: String?) -> Response? {
        exchange(port, "GET \(target) HTTP/1.1\r\n" + (host.map { "Host: \($0)\r\n" } ?? "") + "\r\n")
    }

    static func post(_ port: Int, _ form: String, host: String, origin: String? = nil) -> Response? {
        exchange(port, "POST / HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + (origin.map { "Origin: \($0)\r\n" } ?? "") + "Content-Length: \(form.utf8.count)\r\n\r\n" + form)
    }

    static func csrfToken(in page: String) -> String? {
        page.range(of: #"name="csrf_token" value=""#).map { String(page[$0.upperBound...].prefix { $0 != "\"" }) }
    }

    /// The token of the form `/` serves now.
    static func formToken(_ port: Int, host: String) throws -> String {
        let page = try #require(get(port, "/", host: host))
        return try #require(csrfToken(in: page.body), "no form: \(page.status) \(page.body)")
    }

    /// The attack from issue 9: once the person has submitted the form, a local process
    /// fetches `/` again, reuses the token and posts its own client without an Origin header,
    /// to read `state` from the redirect. Both are refused, and the login goes on with the
    /// person's client.
    @Test func afterTheFormIsSubmittedAnotherLocalProcessCannotTakeTheLoginOver() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        setup.server.registerClient(id: "attacker-client", secret: "attacker-secret", redirectURIs: [setup.redirectURI])
        let running = try RunningLogin(setup.sandbox, ["login", "notion", "--no-browser", "--port", String(setup.port), "--timeout", String(BrowserLoginSetup.loginTimeoutSeconds)])
        let url = try await running.printedURL()
        let host = "127.0.0.1:\(setup.port)"
        let page = try #require(Self.get(setup.port, "/", host: host))
        #expect(page.status == 200)
        let token = try #require(Self.csrfToken(in: page.body))
        let submitted = try #require(Self.post(setup.port, "client_id=client-1&client_secret=s3cret-value&csrf_token=\(token)", host: host, origin: "http://\(host)"))
        #expect(submitted.status == 303)
        let consentURL = try #require(submitted.header("Location").first)

        let again = try #require(Self.get(setup.port, "/", host: host))
        #expect(again.status == 410, "the form is served again after credentials came in")
        #expect(Self.csrfToken(in: again.body) == nil)
        let hijack = try #require(Self.post(setup.port, "client_id=attacker-client&client_secret=attacker-secret&csrf_token=\(token)", host: host))
        #expect(hijack.status == 410)
        #expect(hijack.header("Location").isEmpty, "the redirect (with this login's state) went to the attacker")
        #expect(running.started.process.isRunning)

        try await running.approveInBrowser(at: setup.server, url: consentURL)
        let result = try await running.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(url == "http://\(host)/")
        let vault = await setup.sandbox.vault()
        #expect(try vault.open().clientCredentials(provider: "notion")?.clientID == "client-1")
        let exchange = try #require(setup.server.lastRequest(path: "/v1/oauth/token"))
        #expect(exchange.headers["authorization"] == "Basic " + Data("client-1:s3cret-value".utf8).base64EncodedString())
    }

    /// A form token is good for one submission, even one refused for a missing field;
    /// reloading the page gives a new one.
    @Test func aFormTokenIsSpentByTheSubmissionThatUsesIt() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let running = try RunningLogin(setup.sandbox, ["login", "notion", "--no-browser", "--port", String(setup.port), "--timeout", String(BrowserLoginSetup.loginTimeoutSeconds)])
        _ = try await running.printedURL()
        let host = "127.0.0.1:\(setup.port)", origin = "http://127.0.0.1:\(setup.port)"
        let first = try Self.formToken(setup.port, host: host)
        #expect(Self.post(setup.port, "client_id=client-1&client_secret=+&csrf_token=\(first)", host: host, origin: origin)?.status == 400)
        #expect(Self.post(setup.port, "client_id=client-1&client_secret=s3cret-value&csrf_token=\(first)", host: host, origin: origin)?.status == 403)
        let second = try Self.formToken(setup.port, host: host)
        #expect(second != first)
        let submitted = try #require(Self.post(setup.port, "client_id=client-1&client_secret=s3cret-value&csrf_token=\(second)", host: host, origin: origin))
        #expect(submitted.status == 303)
        let consentURL = try #require(submitted.header("Location").first)
        try await running.approveInBrowser(at: setup.server, url: consentURL)
        #expect(try await running.finish().status == 0)
    }

    /// DNS rebinding: a page from another site whose name now resolves to 127.0.0.1 sends
    /// its own name in Host. The form and the callback answer only to the listener's own
    /// address (and `localhost`); the login keeps waiting.
    @Test func requestsForAnotherHostAreRefused() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let running = try RunningLogin(setup.sandbox, ["login", "notion", "--no-browser", "--port", String(setup.port), "--timeout", String(BrowserLoginSetup.loginTimeoutSeconds)])
        _ = try await running.printedURL()
        let port = setup.port
        for host in ["rebound.example:\(port)", "127.0.0.1", "127.0.0.1:\(port + 1)", "[::1]:\(port)", "127.0.0.1:\(port).evil.example"] {
            let page = try #require(Self.get(port, "/", host: host))
            #expect(page.status == 400, "Host: \(host)")
            #expect(Self.csrfToken(in: page.body) == nil, "Host: \(host)")
        }
        #expect(Self.get(port, "/", host: nil)?.status == 400)
        #expect(Self.exchange(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nHost: rebound.example\r\n\r\n")?.status == 400)
        #expect(Self.get(port, "/auth/callback/oauth?code=c&state=s", host: "rebound.example:\(port)")?.status == 400)

        // A rebound page cannot post either, even with a valid token.
        let own = try #require(Self.get(port, "/", host: "127.0.0.1:\(port)"))
        #expect(own.status == 200)
        #expect(Self.get(port, "/", host: "LOCALHOST:\(port)")?.status == 200)
        let token = try #require(Self.csrfToken(in: own.body))
        #expect(Self.post(port, "client_id=x&client_secret=y&csrf_token=\(token)", host: "rebound.example:\(port)")?.status == 400)
        #expect(running.started.process.isRunning)

        let submitted = try #require(Self.post(port, "client_id=client-1&client_secret=s3cret-value&csrf_token=\(token)", host: "127.0.0.1:\(port)", origin: "http://127.0.0.1:\(port)"))
        #expect(submitted.status == 303)
        let consentURL = try #require(submitted.header("Location").first)
        try await running.approveInBrowser(at: setup.server, url: consentURL)
        #expect(try await running.finish().status == 0)
    }

    /// Every answer tells the browser not to guess its content type.
    @Test func everyResponseSaysNosniff() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let running = try RunningLogin(setup.sandbox, ["login", "notion", "--no-browser", "--port", String(setup.port), "--timeout", String(BrowserLoginSetup.loginTimeoutSeconds)])
        _ = try await running.printedURL()
        let port = setup.port, host = "127.0.0.1:\(setup.port)"
        let form = try #require(Self.get(port, "/", host: host))
        let token = try #require(Self.csrfToken(in: form.body))
        var responses: [(String, Response?)] = [
            ("form", form),
            ("not found", Self.get(port, "/favicon.ico", host: host)),
            ("wrong state", Self.get(port, "/auth/callback/oauth?code=c&state=wrong", host: host)),
            ("wrong host", Self.get(port, "/", host: "rebound.example")),
            ("method", Self.exchange(port, "PUT / HTTP/1.1\r\nHost: \(host)\r\nContent-Length: 0\r\n\r\n")),
            ("bad token", Self.post(port, "client_id=a&client_secret=b&csrf_token=nope", host: host)),
            ("redirect", Self.post(port, "client_id=client-1&client_secret=s3cret-value&csrf_token=\(token)", host: host, origin: "http://\(host)")),
        ]
        responses.append(("closed form", Self.get(port, "/", host: host)))
        let statuses = responses.map { $0.1?.status ?? 0 }
        #expect(statuses == [200, 404, 400, 400, 405, 403, 303, 410])
        for (name, response) in responses {
            #expect(response?.header("X-Content-Type-Options") == ["nosniff"], "\(name)")
        }
        let consentURL = try #require(responses[6].1?.header("Location").first)
        let location = try #require(try await setup.server.authorizeLikeABrowser(url: consentURL).location)
        let success = try #require(Self.get(port, String(location.dropFirst("http://\(host)".count)), host: host))
        #expect(success.status == 200)
        #expect(success.header("X-Content-Type-Options") == ["nosniff"], "success page")
        #expect(try await running.finish().status == 0)
    }

    /// A provider's error comes back form-encoded: '+' is a space and %XX a byte, in the
    /// terminal and on the page.
    @Test func anErrorDescriptionIsFormDecoded() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let running = try RunningLogin(setup.sandbox, ["login", "notion", "--no-browser", "--port", String(setup.port), "--timeout", String(BrowserLoginSetup.loginTimeoutSeconds), "--client-id", "client-1", "--client-secret-stdin"], stdin: "s3cret-value")
        let url = try await running.printedURL()
        let state = try #require(URLComponents(string: url)?.queryItems?.first { $0.name == "state" }?.value)
        let page = try await Browserless.request("http://127.0.0.1:\(setup.port)/auth/callback/oauth?error=access_denied&error_description=The+user+said+no%21&state=\(state)")
        #expect(page.status == 400)
        #expect(page.body.contains("access_denied: The user said no!"))
        let result = try await running.finish()
        #expect(result.status == 4)
        #expect(result.stderr.contains("(access_denied: The user said no!)"), "\(result.stderr)")
    }
}
