import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthCLI

/// oidc-provider-mock (PyPI), a third-party OpenID provider, on loopback: the issuer a
/// definition of a few lines logs in to, refreshes at and asks who the user is.
@Suite(.serialized) struct OIDCProviderMockTests {
    final class Mock: @unchecked Sendable {
        let started: Binary.Started
        let issuer: String

        init(sandbox: Sandbox) async throws {
            try Python.requireInterpreter()
            let port = try Browserless.freePort()
            issuer = "http://127.0.0.1:\(port)"
            started = try Binary.start(Python.interpreter, [
                "-m", "oidc_provider_mock", "--port", String(port),
                "--user-claims", #"{"sub": "alice", "email": "alice@example.com", "name": "Alice Example"}"#,
            ], stdin: nil, environment: ["PATH": sandbox.environment["PATH"] ?? "/usr/bin:/bin", "NO_COLOR": "1"], directory: sandbox.root)
            // A ceiling, not a wait: importing Flask, Authlib and uvicorn in the first, crowded
            // seconds of a full run on 2 cores took more than 30 s once.
            let deadline = Date().addingTimeInterval(90)
            while Date() < deadline, started.process.isRunning {
                // Not the configuration itself: the test counts who asks for that.
                if let page = try? await Browserless.request(issuer + "/jwks"), page.status == 200 { return }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            // Read before stop(), which removes the log.
            let output = log
            stop()
            throw NotionauthError.failure("oidc-provider-mock did not start: \(output)")
        }

        var log: String { (try? String(contentsOfFile: started.stderrPath, encoding: .utf8)) ?? "" }

        /// Requests for its OpenID configuration so far (uvicorn's access log).
        var discoveries: Int {
            log.split(separator: "\n").filter { $0.contains("\"GET /.well-known/openid-configuration ") }.count
        }

        func stop() {
            // uvicorn waits on SIGTERM for open keep-alive connections, which the shared HTTP
            // client of the tests holds: only SIGKILL ends it at once.
            kill(started.process.processIdentifier, SIGKILL)
            started.process.waitUntilExit()
            _ = Binary.collect(started)
        }

        /// The user claims the mock's userinfo gives for `token`, nil when it refuses it.
        func userinfo(_ token: String) async throws -> JSONValue? {
            let page = try await Browserless.request(issuer + "/userinfo", headers: [("Authorization", "Bearer \(token)")])
            return page.status == 200 ? try JSONValue.parse(Array(page.body.utf8)) : nil
        }
    }

    /// Plays the browser: the mock's authorize page asks for a `sub`; posting it redirects
    /// to notionauth's callback.
    static func approve(_ login: RunningLogin, as sub: String) async throws -> Browserless.Page {
        let url = try await login.printedURL()
        let form = try await Browserless.request(url)
        #expect(form.status == 200 && form.body.contains("name=\"sub\""))
        let chosen = try await Browserless.request(url, method: "POST", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "sub=\(sub)")
        let callback = try #require(chosen.location, "no redirect from the authorize page (\(chosen.status)): \(chosen.body)")
        return try await Browserless.request(callback)
    }

    @Test func aDefinitionWithJustAnIssuerLogsInRefreshesAndShowsTheUser() async throws {
        let sandbox = try Sandbox()
        let mock = try await Mock(sandbox: sandbox)
        defer { mock.stop() }
        try sandbox.writeProvider("acme-id", """
        {
          "schema_version": 1,
          "name": "acme-id",
          "flows": ["authorization_code"],
          "oauth": { "issuer": "\(mock.issuer)", "client_auth": "basic", "scopes": ["openid", "email", "profile"] },
          "export": { "access_token": ["ACME_TOKEN"] }
        }
        """)
        let port = try Browserless.freePort()
        let login = try RunningLogin(sandbox, ["login", "acme-id", "--no-browser", "--port", String(port), "--timeout", "60", "--client-id", "notionauth-test", "--client-secret-stdin"], stdin: "s3cret")
        #expect(try await login.printedURL().hasPrefix(mock.issuer + "/oauth2/authorize?"))
        #expect(try await Self.approve(login, as: "alice").status == 200)
        let loggedIn = try await login.finish()
        #expect(loggedIn.status == 0, "\(loggedIn.stderr)\n\(mock.log)")
        #expect(loggedIn.stderr.contains("Logged in to acme-id (as alice@example.com)"), "\(loggedIn.stderr)")
        #expect(mock.discoveries == 1)

        // The token was issued by the mock's token endpoint: its userinfo accepts it.
        let token = try await sandbox.run(["get", "acme-id", "--field", "access_token"]).stdout.trimmingCharacters(in: .newlines)
        #expect(try await mock.userinfo(token)?["sub"] == .string("alice"))

        let json = try JSONValue.parse(Array(try await sandbox.run(["get", "acme-id", "--json"]).stdout.utf8))
        #expect(json["connection"]?["userinfo"] == .object(["sub": .string("alice"), "email": .string("alice@example.com"), "name": .string("Alice Example")]))
        #expect(try await sandbox.run(["list"]).stdout.contains("alice@example.com"))
        let listed = try JSONValue.parse(Array(try await sandbox.run(["list", "--json"]).stdout.utf8))
        #expect(listed.encoded().contains("\"sub\":\"alice\""), "\(listed.encoded())")

        // A second login with the stored client uses the cached metadata.
        let again = try RunningLogin(sandbox, ["login", "acme-id", "--no-browser", "--port", String(port), "--timeout", "60", "--force"])
        #expect(try await Self.approve(again, as: "alice").status == 200)
        #expect(try await again.finish().status == 0)
        #expect(mock.discoveries == 1)
        let second = try await sandbox.run(["get", "acme-id", "--field", "access_token"]).stdout.trimmingCharacters(in: .newlines)

        // Two hours on, the token is refreshed at the discovered token endpoint, still
        // without discovery; a day on, the metadata is stale and fetched again.
        let now = Int64(Date().timeIntervalSince1970)
        let refreshed = await sandbox.runInProcess(["get", "acme-id", "--field", "access_token"], now: now + 2 * 3600)
        #expect(refreshed.status == 0, "\(refreshed.stderr)")
        let third = refreshed.stdout.trimmingCharacters(in: .newlines)
        #expect(third != second)
        #expect(try await mock.userinfo(third)?["sub"] == .string("alice"))
        #expect(mock.discoveries == 1)
        let stale = await sandbox.runInProcess(["get", "acme-id", "--field", "access_token"], now: now + 26 * 3600)
        #expect(stale.status == 0, "\(stale.stderr)")
        #expect(stale.stdout.trimmingCharacters(in: .newlines) != third)
        #expect(mock.discoveries == 2)
    }
}
