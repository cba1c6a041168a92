@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthCLI

/// `run --proxy`: real clients in the child (curl, Python requests, urllib) reach a fake
/// Notion over HTTPS through the run's proxy, which adds the token; the child holds only a
/// placeholder, trusts the run's CA through a bundle that is gone after the run, reaches other
/// hosts through an untouched tunnel, and no other process can use the proxy.
@Suite struct RunProxyTests {
    static let token = "ntn_proxy_real_token_0123456789abcdef"

    /// A sandbox logged in with an internal token to a fake Notion that `notion` reaches over
    /// HTTPS, trusted through NOTIONAUTH_CA_FILE.
    static func loggedIn(token: String = token) async throws -> (TokenLoginSetup, FakeTLS) {
        let tls = try FakeTLS()
        let setup = try await TokenLoginSetup.loggedIn(token: token, tls: tls)
        try trustAndUseHTTPS(setup.sandbox, server: setup.server, tls: tls)
        return (setup, tls)
    }

    static func trustAndUseHTTPS(_ sandbox: Sandbox, server: FakeNotionServer, tls: FakeTLS) throws {
        let caFile = sandbox.root + "/fake-notion-ca.pem"
        try tls.caPEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        sandbox.environment["NOTIONAUTH_CA_FILE"] = caFile
        try sandbox.pointNotion(at: server.secureBaseURL)
    }

    /// Runs the Python child under `run --proxy`, returning its JSON report and the run's result.
    static func runChild(_ sandbox: Sandbox, _ arguments: [String], runOptions: [String] = ["--proxy"], environment: [String: String] = [:]) async throws -> (JSONValue, RunResult) {
        try Python.requireInterpreter()
        let result = try await sandbox.run(["run"] + runOptions + ["--", Python.interpreter, Python.script("proxy_child.py")] + arguments, environment: environment)
        let line = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let report = try #require(try? JSONValue.parse(Array(line.utf8)), "the child printed no report: status \(result.status), \(result.stderr)")
        return (report, result)
    }

    @Test func curlRequestsAndUrllibReachNotionWithTheRealTokenWhileTheChildHoldsOnlyAPlaceholder() async throws {
        let (setup, _) = try await Self.loggedIn()
        defer { setup.server.stopNow() }
        let url = setup.server.secureBaseURL + "/v1/users/me"
        let (report, result) = try await Self.runChild(setup.sandbox, ["clients", url])
        #expect(result.status == 0, "\(result.stderr)")
        for client in ["curl", "requests", "urllib"] {
            #expect(report["results"]?[client]?["status"]?.intValue == 200, "\(client): \(report["results"]?[client]?.encoded() ?? "")")
            #expect(report["results"]?[client]?["body"]?.stringValue?.contains("\"bot\"") == true, "\(client) got no user")
        }
        let seen = setup.server.requests(path: "/v1/users/me").suffix(3)
        #expect(seen.count == 3)
        for request in seen {
            #expect(request.headers["authorization"] == "Bearer \(Self.token)", "the server did not get the real token")
            #expect(request.headers["proxy-authorization"] == nil, "the proxy's credential went upstream")
        }
        #expect(report["environment"]?["NOTION_ACCESS_TOKEN"]?.stringValue == RunProxy.placeholder)
        #expect(report["environment"]?["NOTION_TOKEN"]?.stringValue == RunProxy.placeholder)
        // Everything the child printed: its environment, what it received, curl's messages.
        #expect(!result.stdout.contains(Self.token) && !result.stderr.contains(Self.token), "the token reached the child")
        for name in RunCABundleNames.all {
            #expect(report["environment"]?[name]?.stringValue?.hasSuffix("/ca-bundle.pem") == true, "\(name) is not the run's bundle")
        }
        #expect(report["environment"]?["HTTPS_PROXY"]?.stringValue?.hasPrefix("http://notionauth:") == true)
    }

    @Test func theChildsEnvironmentInProcHoldsNoTokenAndTheBundleIsPrivate() async throws {
        let (setup, _) = try await Self.loggedIn()
        defer { setup.server.stopNow() }
        let marker = setup.sandbox.root + "/child"
        try Python.requireInterpreter()
        let started = try Binary.start(
            Binary.notionauth, ["run", "--proxy", "--", Python.interpreter, Python.script("proxy_child.py"), "wait", "-", marker],
            stdin: nil, environment: setup.sandbox.environment, directory: setup.sandbox.root)
        defer { if started.process.isRunning { kill(started.process.processIdentifier, SIGKILL) } }
        let pid = try await Binary.pid(writtenTo: marker + ".pid")
        try #require(pid > 0, "the child did not start: \(Binary.collect(started).stderr)")
        let environ = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))
        #expect(!environ.isEmpty)
        #expect(environ.range(of: Data(Self.token.utf8)) == nil, "the token is in /proc/\(pid)/environ")
        #expect(environ.range(of: Data("NOTION_ACCESS_TOKEN=\(RunProxy.placeholder)".utf8)) != nil)
        FileManager.default.createFile(atPath: marker + ".go", contents: nil)
        try await Binary.wait(started.process, timeoutSeconds: 30)
        let result = Binary.collect(started)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try? JSONValue.parse(Array((result.stdout.split(separator: "\n").last.map(String.init) ?? "").utf8)))
        #expect(report["bundle_mode"]?.stringValue == "0o600")
        #expect(report["bundle_directory_mode"]?.stringValue == "0o700")
    }

    @Test func afterTheRunThePortIsClosedAndTheBundleIsGone() async throws {
        let (setup, _) = try await Self.loggedIn()
        defer { setup.server.stopNow() }
        let (report, result) = try await Self.runChild(setup.sandbox, ["none", "-"], environment: ["PROXY_CHILD_EXIT": "7"])
        // The child's status is the run's.
        #expect(result.status == 7, "\(result.stderr)")
        let proxy = try #require(report["environment"]?["HTTPS_PROXY"]?.stringValue)
        let port = try #require(proxy.split(separator: ":").last.flatMap { Int($0) })
        let connected = Loopback.connect(port)
        if let connected { close(connected) }
        #expect(connected == nil, "the proxy still listens on \(port)")
        let bundle = try #require(report["environment"]?["SSL_CERT_FILE"]?.stringValue)
        #expect(!FileManager.default.fileExists(atPath: bundle))
        #expect(!FileManager.default.fileExists(atPath: (bundle as NSString).deletingLastPathComponent), "the bundle's directory is left")
    }

    @Test func withoutTheRunsCredentialTheProxyAnswers407() async throws {
        let (setup, _) = try await Self.loggedIn()
        defer { setup.server.stopNow() }
        let url = setup.server.secureBaseURL + "/v1/users/me"
        let before = setup.server.requests(path: "/v1/users/me").count
        let (report, result) = try await Self.runChild(setup.sandbox, ["unauthorized", url])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report["without"]?.stringValue?.hasPrefix("HTTP/1.1 407") == true, "\(report["without"]?.stringValue ?? "")")
        // curl reports a refused CONNECT as its failure to tunnel, not as the server's status.
        #expect(report["wrong"]?["exit"]?.intValue != 0)
        #expect(report["wrong"]?["stderr"]?.stringValue?.contains("407") == true, "\(report["wrong"]?["stderr"]?.stringValue ?? "")")
        #expect(setup.server.requests(path: "/v1/users/me").count == before, "a request without the credential reached Notion")
    }

    @Test func anotherHostIsTunnelledUntouchedWithItsOwnCertificate() async throws {
        let (setup, _) = try await Self.loggedIn()
        defer { setup.server.stopNow() }
        // "Any other host": a second TLS server with a CA of its own, which the user trusts.
        let otherTLS = try FakeTLS()
        let other = try await FakeNotionServer.start(tls: otherTLS)
        defer { other.stopNow() }
        other.addInternalToken("ntn_other_host_token_abcdef0123", botID: "bot-2", workspaceName: "Other")
        let otherCA = setup.sandbox.root + "/other-ca.pem"
        try otherTLS.caPEM.write(toFile: otherCA, atomically: true, encoding: .utf8)
        let (report, result) = try await Self.runChild(
            setup.sandbox, ["curl-cacert", other.secureBaseURL + "/v1/users/me", otherCA],
            environment: ["SSL_CERT_FILE": otherCA, "NOTION_ACCESS_TOKEN_FOR_OTHER": "unused"])
        #expect(result.status == 0, "\(result.stderr)")
        // curl verified with the other server's CA alone: the certificate it saw was the server's own.
        #expect(report["results"]?["curl"]?["exit"]?.intValue == 0, "\(report["results"]?["curl"]?.encoded() ?? "")")
        let seen = try #require(other.requests(path: "/v1/users/me").last)
        // Not decrypted, so not rewritten: the child's own (placeholder) Authorization arrived.
        #expect(seen.headers["authorization"] == "Bearer \(RunProxy.placeholder)")
        #expect(report["results"]?["curl"]?["status"]?.intValue == 401)
    }

    @Test func aTokenThatExpiresAtTheServerIsRefreshedOnceForTwentyParallelRequests() async throws {
        let tls = try FakeTLS()
        let setup = try await BrowserLoginSetup.loggedIn(lifetime: 3600, tls: tls)
        defer { setup.server.stopNow() }
        try Self.trustAndUseHTTPS(setup.sandbox, server: setup.server, tls: tls)
        let token = try #require(try await setup.sandbox.storedConnection()["access_token"]?.stringValue)
        setup.server.expireServerSide(token: token)
        let refreshesBefore = setup.server.refreshRequestCount()
        let (report, result) = try await Self.runChild(
            setup.sandbox, ["parallel", setup.server.secureBaseURL + "/v1/users/me", "20"],
            environment: ["NOTION_CLIENT_SECRET": BrowserLoginSetup.clientSecret])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report["statuses"]?.arrayValue?.map(\.intValue) == Array(repeating: 200, count: 20), "\(report["statuses"]?.encoded() ?? "")")
        #expect(report["after"]?.intValue == 200)
        #expect(setup.server.refreshRequestCount() - refreshesBefore == 1)
        let renewed = try await setup.sandbox.storedConnection()["access_token"]?.stringValue
        #expect(renewed != token, "the refreshed pair was not stored")
    }

    @Test func SIGTERMReachesTheChildItsStatusIsTheRunsAndTheBundleIsRemoved() async throws {
        let (setup, _) = try await Self.loggedIn()
        defer { setup.server.stopNow() }
        let marker = setup.sandbox.root + "/child"
        let script = #"trap 'echo "$SSL_CERT_FILE" > "$0.bundle"; exit 42' TERM; echo $$ > "$0.pid"; while :; do sleep 0.05; done"#
        let started = try Binary.start(
            Binary.notionauth, ["run", "--proxy", "--", "sh", "-c", script, marker], stdin: nil,
            environment: setup.sandbox.environment, directory: setup.sandbox.root)
        var child: pid_t = 0
        defer {
            if started.process.isRunning { kill(started.process.processIdentifier, SIGKILL) }
            if child > 0 { kill(child, SIGKILL) }
        }
        child = try await Binary.pid(writtenTo: marker + ".pid")
        try #require(child > 0, "the child did not start: \(Binary.collect(started).stderr)")
        kill(started.process.processIdentifier, SIGTERM)
        try await Binary.wait(started.process, timeoutSeconds: 30)
        #expect(started.process.terminationReason == .exit && started.process.terminationStatus == 42)
        let bundle = try String(contentsOfFile: marker + ".bundle", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(bundle.hasSuffix("/ca-bundle.pem"))
        #expect(!FileManager.default.fileExists(atPath: (bundle as NSString).deletingLastPathComponent), "the bundle's directory is left")
        _ = Binary.collect(started)
    }

    /// With a shared store, `notionauth` becomes notionauth-postgres, which becomes
    /// notionauth-proxy: the token comes from the database, and the child still never holds it.
    @Test func theProxyServesAConnectionFromASharedStore() async throws {
        let (setup, _) = try await Self.loggedIn()
        defer { setup.server.stopNow() }
        _ = try await setup.sandbox.moveToPostgres()
        let url = setup.server.secureBaseURL + "/v1/users/me"
        let (report, result) = try await Self.runChild(setup.sandbox, ["clients", url])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report["results"]?["requests"]?["status"]?.intValue == 200, "\(report["results"]?.encoded() ?? "")")
        #expect(setup.server.requests(path: "/v1/users/me").last?.headers["authorization"] == "Bearer \(Self.token)")
        #expect(!result.stdout.contains(Self.token))
        #expect(report["environment"]?["NOTIONAUTH_STORE"] == nil, "the store's URL reached the child")
    }

    @Test func NOTIONAUTH_RUN_PROXYMakesTheProxyTheDefault() async throws {
        let (setup, _) = try await Self.loggedIn()
        defer { setup.server.stopNow() }
        let (report, result) = try await Self.runChild(
            setup.sandbox, ["none", "-"], runOptions: [], environment: ["NOTIONAUTH_RUN_PROXY": "1", "NO_PROXY": "intranet.example,10.0.0.0/8"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report["environment"]?["NOTION_ACCESS_TOKEN"]?.stringValue == RunProxy.placeholder)
        // NO_PROXY is the user's, passed through as set.
        #expect(report["environment"]?["NO_PROXY"]?.stringValue == "intranet.example,10.0.0.0/8")
        let (plain, _) = try await Self.runChild(setup.sandbox, ["none", "-"], runOptions: ["--no-proxy"], environment: ["NOTIONAUTH_RUN_PROXY": "1"])
        #expect(plain["environment"]?["NOTION_ACCESS_TOKEN"]?.stringValue == Self.token)
    }

    @Test func theProxysCredentialIsMaskedInTheChildsOutput() async throws {
        let (setup, _) = try await Self.loggedIn()
        defer { setup.server.stopNow() }
        let (report, result) = try await Self.runChild(setup.sandbox, ["none", "-"], runOptions: ["--proxy", "--mask"])
        #expect(result.status == 0, "\(result.stderr)")
        let proxy = try #require(report["environment"]?["HTTPS_PROXY"]?.stringValue)
        #expect(proxy.hasPrefix("http://notionauth:****@127.0.0.1:"), "\(proxy)")
    }
}

/// NOTIONAUTH_CA_FILE: notionauth's own HTTPS trusts its certificates too, for every command.
@Suite struct CAFileTests {
    @Test func aServerSignedByTheCAInNOTIONAUTH_CA_FILEIsTrustedAndWithoutItRefused() async throws {
        let tls = try FakeTLS()
        let server = try await FakeNotionServer.start(tls: tls)
        defer { server.stopNow() }
        server.addInternalToken("ntn_ca_file_token_0123456789", botID: "bot-1", workspaceName: "Acme")
        let sandbox = try Sandbox()
        try sandbox.pointNotion(at: server.secureBaseURL)
        let refused = try await sandbox.run(["login", "notion", "--with-token"], stdin: "ntn_ca_file_token_0123456789")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("cannot reach 127.0.0.1"), "\(refused.stderr)")
        let caFile = sandbox.root + "/ca.pem"
        try tls.caPEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        let trusted = try await sandbox.run(["login", "notion", "--with-token"], stdin: "ntn_ca_file_token_0123456789", environment: ["NOTIONAUTH_CA_FILE": caFile])
        #expect(trusted.status == 0, "\(trusted.stderr)")
    }

    @Test func aFileWithoutCertificatesIsAnErrorNamingIt() async throws {
        let tls = try FakeTLS()
        let server = try await FakeNotionServer.start(tls: tls)
        defer { server.stopNow() }
        let sandbox = try Sandbox()
        try sandbox.pointNotion(at: server.secureBaseURL)
        let bogus = sandbox.root + "/not-a-ca.pem"
        try "hello\n".write(toFile: bogus, atomically: true, encoding: .utf8)
        let result = try await sandbox.run(["login", "notion", "--with-token"], stdin: "ntn_whatever_0123456789abc", environment: ["NOTIONAUTH_CA_FILE": bogus])
        #expect(result.status != 0)
        #expect(result.stderr.contains(bogus) && result.stderr.contains("NOTIONAUTH_CA_FILE"), "\(result.stderr)")
    }
}

extension JSONValue {
    var intValue: Int? { int64Value.map { Int($0) } }
}

/// The names the run's CA bundle goes by in the child's environment.
enum RunCABundleNames {
    static let all = ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "GIT_SSL_CAINFO"]
}
