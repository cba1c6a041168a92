@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthKit

/// What a provider, a local attacker or a careless paste hands us: tokens with control
/// characters, methods that would split a request, escape sequences in a workspace name,
/// FIFOs where files belong, provider files that others could have written.
@Suite struct HostileInputTests {
    @Test(arguments: ["ntn_secret\u{01}part", "ntn_secret\u{7F}part", "ntn_secret\u{85}part", "ntn_secret\r\nX-Injected: 1"])
    func aPastedTokenWithControlCharactersIsRefusedWithoutRepeatingIt(token: String) async throws {
        let server = try await FakeNotionServer.start()
        defer { server.stopNow() }
        let sandbox = try Sandbox()
        try sandbox.pointNotion(at: server.baseURL)
        let result = try await sandbox.run(["login", "notion", "--with-token"], stdin: token)
        #expect(result.status == 2)
        #expect(result.stderr.contains("control characters"))
        #expect(!result.stderr.contains("ntn_secret"))
        #expect(!result.stderr.contains("Bearer"))
        #expect(server.requestCount(path: "/v1/users/me") == 0)
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

    @Test func noErrorFromTheHTTPClientCanQuoteAHeaderValue() {
        let request = HTTPRequest(method: "GET", url: "http://127.0.0.1:1/v1/users/me", headers: [("Authorization", "Bearer ntn_quoted_secret_value")])
        struct ClientError: Error, CustomStringConvertible {
            var description: String { #"invalidHeaderFieldValues(["Bearer ntn_quoted_secret_value"])"# }
        }
        let text = AsyncHTTPTransport.describe(ClientError(), request: request)
        #expect(!text.contains("ntn_quoted_secret_value"))
        #expect(text.contains("[redacted]"))
        var split = request
        split.headers = [("Authorization", "Bearer a\r\nX-Injected: 1")]
        #expect(split.problem == "the value of the Authorization header contains a control character")
    }

    @Test(arguments: ["POST /v1/pages HTTP/1.1\r\nHost: evil.example\r\n\r\nPOST", "GET\u{1}", "PO ST", "GET\n"])
    func apiRefusesAMethodThatCouldSplitTheRequest(method: String) async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_hostile_test_token_0001")
        defer { setup.server.stopNow() }
        let (server, sandbox) = (setup.server, setup.sandbox)
        let result = try await sandbox.run(["api", "/v1/users/me", "-X", method])
        #expect(result.status == 2)
        #expect(result.stderr.contains("-X takes an HTTP method"))
        #expect(server.requests(path: "/v1/users/me").count == 1, "only the login's own check reached the server")
        #expect(server.requests(path: "/v1/pages").isEmpty)
    }

    @Test func apiRefusesAPathWithControlCharacters() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_hostile_test_token_0001")
        defer { setup.server.stopNow() }
        let (server, sandbox) = (setup.server, setup.sandbox)
        let result = try await sandbox.run(["api", "/v1/users/me HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET /v1/search"])
        #expect(result.status == 2)
        #expect(server.requests(path: "/v1/search").isEmpty)
        let methods = try await sandbox.run(["api", "/v1/users/me", "-X", "PATCH"])
        #expect(server.lastRequest(path: "/v1/users/me")?.method == "PATCH", "ordinary methods still go through: \(methods.stderr)")
    }

    static let escapes = "Evil\u{1B}]0;owned\u{07}\u{1B}[2J\u{9B}31m\rerror: forged\nline"

    @Test func providerTextReachesTheTerminalWithoutControlCharacters() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_hostile_test_token_0001", workspace: Self.escapes)
        defer { setup.server.stopNow() }
        let (server, sandbox) = (setup.server, setup.sandbox)
        func clean(_ text: String, _ what: String) {
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F...0x9F).contains($0.value) }, "\(what): \(text.debugDescription)")
            #expect(!text.contains("\nerror: forged"), "\(what) lets the provider start a line")
        }
        // The login's own confirmation was printed before the name could be checked.
        let login = try await sandbox.run(["login", "notion", "--with-token"], stdin: "ntn_hostile_test_token_0001")
        clean(login.stderr, "login")
        #expect(login.stderr.contains("Evil"))
        let list = try await sandbox.run(["list"])
        clean(list.stdout, "list")
        let status = try await sandbox.run(["status"])
        clean(status.stdout + status.stderr, "status")
        // JSON keeps the exact text, escaped.
        let json = try await sandbox.run(["list", "--json"])
        guard case let .array(providers)? = try JSONValue.parse(Array(json.stdout.utf8))["providers"] else {
            Issue.record("list --json has no providers: \(json.stdout)")
            return
        }
        let names = providers.compactMap { provider -> String? in
            guard case let .array(connections)? = provider["connections"] else { return nil }
            return connections.first?["workspace_name"]?.stringValue
        }
        #expect(names == [Self.escapes])

        server.failNext(path: "/v1/users/me", status: 401, body: #"{"object":"error","status":401,"code":"unauthorized","message":"bad \u001b[2J\nerror: forged"}"#)
        let refused = try await sandbox.run(["api", "/v1/users/me"])
        clean(refused.stderr, "api error")
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

    @Test(arguments: ["providers/notion.json", "vault", "vault.key", "vault.lock"])
    func aFIFOInPlaceOfOneOfOurFilesIsRefusedNotWaitedFor(relativePath: String) async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_hostile_test_token_0001")
        defer { setup.server.stopNow() }
        let (server, sandbox) = (setup.server, setup.sandbox)
        let path = sandbox.config + "/" + relativePath
        let saved = try Data(contentsOf: URL(fileURLWithPath: path))
        try FileManager.default.removeItem(atPath: path)
        #expect(mkfifo(path, 0o600) == 0)
        // A write takes the lock; a read opens the others.
        let arguments = relativePath == "vault.lock" ? ["logout", "notion"] : ["get", "notion", "--field", "workspace_name"]
        let result = try await Binary.run(Binary.notionauth, arguments, environment: sandbox.environment, directory: sandbox.root, timeoutSeconds: 10)
        #expect(result.status != 0)
        #expect(result.stderr.contains(path))
        #expect(result.stderr.contains("not a regular file"))
        try FileManager.default.removeItem(atPath: path)
        try saved.write(to: URL(fileURLWithPath: path))
    }

    @Test func providerFilesThatOthersCouldWriteAreRefused() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_hostile_test_token_0001")
        defer { setup.server.stopNow() }
        let (server, sandbox) = (setup.server, setup.sandbox)
        let file = sandbox.providersDirectory + "/notion.json"
        let cases: [(path: String, mode: Int16)] = [(file, 0o666), (file, 0o620), (sandbox.providersDirectory, 0o777), (sandbox.config, 0o770)]
        for (path, mode) in cases {
            let original = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            let result = try await sandbox.run(["get", "notion", "--field", "workspace_name"])
            #expect(result.status == 5, "\(path) mode \(String(mode, radix: 8)): \(result.stderr)")
            #expect(result.stderr.contains("refusing to use \(path)"))
            #expect(result.stderr.contains("chmod go-w"))
            try FileManager.default.setAttributes([.posixPermissions: original], ofItemAtPath: path)
        }
        #expect(chown(file, 12345, 12345) == 0)
        let foreign = try await sandbox.run(["inspect", "notion"])
        #expect(foreign.status == 5)
        #expect(foreign.stderr.contains("belongs to another user"))
        #expect(chown(file, geteuid(), getegid()) == 0)
        #expect(try await sandbox.run(["get", "notion", "--field", "workspace_name"]).stdout == "Acme\n")
    }
}
