@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// What a provider, a local attacker or a careless paste hands us: tokens with control
/// characters, methods that would split a request, escape sequences in a workspace name,
/// FIFOs where files belong, provider files that others could have written.
@Suite struct HostileInputTests {
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

    static let escapes = "Evil\u{1B}]0;owned\u{07}\u{1B}[2J\u{9B}31m\rerror: forged\nline"

    @Test func providerTextReachesTheTerminalWithoutControlCharacters() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_hostile_test_token_0001", workspace: Self.escapes)
        defer { setup.server.stopNow() }
        func clean(_ text: String, _ what: String) {
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F...0x9F).contains($0.value) }, "\(what): \(text.debugDescription)")
            #expect(!text.contains("\nerror: forged"), "\(what) lets the provider start a line")
        }
        // The login's own confirmation was printed before the name could be checked.
        let login = try await setup.sandbox.run(["login", "notion", "--with-token"], stdin: "ntn_hostile_test_token_0001")
        clean(login.stderr, "login")
        #expect(login.stderr.contains("Evil"))
        let list = try await setup.sandbox.run(["list"])
        clean(list.stdout, "list")
        let status = try await setup.sandbox.run(["status"])
        clean(status.stdout + status.stderr, "status")
        // JSON keeps the exact text, escaped.
        let json = try await setup.sandbox.run(["list", "--json"])
        guard case let .array(providers)? = try JSONValue.parse(Array(json.stdout.utf8))["providers"] else {
            Issue.record("list --json has no providers: \(json.stdout)")
            return
        }
        let names = providers.compactMap { provider -> String? in
            guard case let .array(connections)? = provider["connections"] else { return nil }
            return connections.first?["workspace_name"]?.stringValue
        }
        #expect(names == [Self.escapes])

        setup.server.failNext(path: "/v1/users/me", status: 401, body: #"{"object":"error","status":401,"code":"unauthorized","message":"bad \u001b[2J\nerror: forged"}"#)
        let refused = try await setup.sandbox.run(["api", "/v1/users/me"])
        clean(refused.stderr, "api error")
    }

    @Test(arguments: ["providers/notion.json", "vault", "vault.key", "vault.lock"])
    func aFIFOInPlaceOfOneOfOurFilesIsRefusedNotWaitedFor(relativePath: String) async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_hostile_test_token_0001")
        defer { setup.server.stopNow() }
        let path = setup.sandbox.config + "/" + relativePath
        let saved = try Data(contentsOf: URL(fileURLWithPath: path))
        try FileManager.default.removeItem(atPath: path)
        #expect(mkfifo(path, 0o600) == 0)
        // A write takes the lock; a read opens the others.
        let arguments = relativePath == "vault.lock" ? ["logout", "notion"] : ["get", "notion", "--field", "workspace_name"]
        let result = try await Binary.run(Binary.notionauth, arguments, environment: setup.sandbox.environment, directory: setup.sandbox.root, timeoutSeconds: 10)
        #expect(result.status != 0)
        #expect(result.stderr.contains(path))
        #expect(result.stderr.contains("not a regular file"))
        try FileManager.default.removeItem(atPath: path)
        try saved.write(to: URL(fileURLWithPath: path))
    }

    @Test func providerFilesThatOthersCouldWriteAreRefused() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: "ntn_hostile_test_token_0001")
        defer { setup.server.stopNow() }
        let file = setup.sandbox.providersDirectory + "/notion.json"
        let cases: [(path: String, mode: Int16)] = [(file, 0o666), (file, 0o620), (setup.sandbox.providersDirectory, 0o777), (setup.sandbox.config, 0o770)]
        for (path, mode) in cases {
            let original = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            let result = try await setup.sandbox.run(["get", "notion", "--field", "workspace_name"])
            #expect(result.status == 5, "\(path) mode \(String(mode, radix: 8)): \(result.stderr)")
            #expect(result.stderr.contains("refusing to use \(path)"))
            #expect(result.stderr.contains("chmod go-w"))
            try FileManager.default.setAttributes([.posixPermissions: original], ofItemAtPath: path)
        }
        #expect(chown(file, 12345, 12345) == 0)
        let foreign = try await setup.sandbox.run(["inspect", "notion"])
        #expect(foreign.status == 5)
        #expect(foreign.stderr.contains("belongs to another user"))
        #expect(chown(file, geteuid(), getegid()) == 0)
        #expect(try await setup.sandbox.run(["get", "notion", "--field", "workspace_name"]).stdout == "Acme\n")
    }
}
