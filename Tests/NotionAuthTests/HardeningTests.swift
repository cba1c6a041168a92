@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// Faults, load and hostile input: notionauth keeps working and loses nothing.
@Suite struct HardeningTests {
    static func connectionNames(_ sandbox: Sandbox, environment: [String: String] = [:]) async -> Set<String>? {
        connectionNames(listedBy: await sandbox.runInProcess(["--json", "list"], environment: environment))
    }

    /// provider/connection for every connection in the output of `--json list`; nil when it failed.
    static func connectionNames(listedBy list: RunResult) -> Set<String>? {
        guard list.status == 0, let json = try? JSONValue.parse(Array(list.stdout.utf8)), case let .array(providers)? = json["providers"] else { return nil }
        var names = Set<String>()
        for provider in providers {
            if case let .array(connections)? = provider["connections"] {
                for connection in connections { names.insert("\(provider["name"]!.stringValue!)/\(connection["name"]!.stringValue!)") }
            }
        }
        return names
    }

    @Test func truncationAtEveryLengthIsExit5AndNothingIsOverwritten() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_truncate_abcdefghijkl").status == 0)
        let original = try Data(contentsOf: URL(fileURLWithPath: sandbox.vaultPath))
        for length in 0..<original.count {
            let truncated = original.prefix(length)
            try truncated.write(to: URL(fileURLWithPath: sandbox.vaultPath))
            #expect(await sandbox.runInProcess(["get", "notion", "--field", "access_token"]).status == 5, "length \(length)")
            #expect(await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify", "--connection", "x"], stdin: "ntn_x_abcdefghijklmnopq").status == 5)
            #expect(try Data(contentsOf: URL(fileURLWithPath: sandbox.vaultPath)) == truncated)
        }
    }

    @Test func futureFormatWrongPassphraseAndExcessiveKDFAreExit5() async throws {
        let sandbox = try Sandbox()
        #expect(await sandbox.runInProcess(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_future_abcdefghijklm").status == 0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: sandbox.vaultPath))
        bytes[8] = 9
        try bytes.write(to: URL(fileURLWithPath: sandbox.vaultPath))
        let future = await sandbox.runInProcess(["get", "notion"])
        #expect(future.status == 5)
        #expect(future.stderr.contains("format version 9 is not supported"))

        let protected = try Sandbox()
        #expect(await protected.runInProcess(["login", "notion", "--with-token", "--no-verify"], stdin: "ntn_pass_abcdefghijklmno").status == 0)
        #expect(await protected.runInProcess(["vault", "passphrase"], environment: ["NOTIONAUTH_PASSPHRASE": "right one"]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: protected.vaultPath))
        let wrong = await protected.runInProcess(["login", "notion", "--with-token", "--no-verify", "--connection", "y"], stdin: "ntn_y_abcdefghijklmnopq", environment: ["NOTIONAUTH_PASSPHRASE": "wrong one"])
        #expect(wrong.status == 5)
        #expect(try Data(contentsOf: URL(fileURLWithPath: protected.vaultPath)) == before)

        // A header asking for 4 GiB of Argon2 memory is refused before any derivation.
        var greedy = before
        let memLimit = UInt64(4) << 30
        for i in 0..<8 { greedy[16 + i] = UInt8((memLimit >> (8 * UInt64(i))) & 0xff) }
        try greedy.write(to: URL(fileURLWithPath: protected.vaultPath))
        let started = Date()
        let capped = await protected.runInProcess(["get", "notion"], environment: ["NOTIONAUTH_PASSPHRASE": "right one"])
        #expect(capped.status == 5)
        #expect(capped.stderr.contains("KDF limits out of bounds"))
        // A 4 GiB derivation takes far longer (if the machine has the memory at all); the
        // bound leaves room for a machine busy with the rest of the suite.
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func hugeAndDeeplyNestedProviderFilesAreClearErrors() async throws {
        let sandbox = try Sandbox()
        try sandbox.writeProvider("notion", String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000))
        let deep = await sandbox.runInProcess(["inspect", "notion"])
        #expect(deep.status == 1)
        #expect(deep.stderr.contains("notion.json: $: not valid JSON: Too many nested"))
        try sandbox.writeProvider("notion", "{\"name\": \"" + String(repeating: "x", count: 2 << 20) + "\"}")
        #expect(await sandbox.runInProcess(["inspect", "notion"]).stderr.contains("larger than 1 MiB"))
    }
}

/// The callback listener of a real `login` process under hostile traffic.
@Suite struct CallbackListenerHostileInputTests {
    /// Sends raw bytes to the listener; returns the status line, or nil if the connection was closed without one.
    static func raw(_ port: Int, _ bytes: [UInt8], readTimeout: Int = 3) -> String? {
        guard let fd = Loopback.connect(port) else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: readTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self).components(separatedBy: "\r\n").first
    }

    @Test func theListenerSurvivesHostileTrafficAndTheRealCallbackStillCompletes() async throws {
        let setup = try await BrowserLoginSetup.start()
        defer { setup.server.stopNow() }
        let running = try setup.login(extra: ["--timeout", "60"])
        let url = try await running.printedURL()
        let port = setup.port

        // Oversized request line and headers.
        let longLine = Self.raw(port, Array("GET /\(String(repeating: "a", count: 200_000)) HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(longLine == nil || longLine!.contains(" 4"), "\(longLine ?? "closed")")
        let bigHeaders = Self.raw(port, Array(("GET / HTTP/1.1\r\n" + String(repeating: "X-Junk: \(String(repeating: "b", count: 1000))\r\n", count: 200) + "\r\n").utf8))
        #expect(bigHeaders == nil || bigHeaders!.contains(" 4"))
        // Other methods, invalid UTF-8 and broken percent-encoding.
        #expect(Self.raw(port, Array("POST /auth/callback/oauth HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".utf8))?.contains("405") == true)
        #expect(Self.raw(port, Array("DELETE / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))?.contains("404") == true)
        #expect(Self.raw(port, Array("GET /auth/callback/oauth?state=%ZZ%&code=%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n".utf8))?.contains("400") == true)
        #expect(Self.raw(port, Array("GET /\u{FF}\u{FE} HTTP/1.1\r\nHost: x\r\n\r\n".utf8) + [0xff, 0xfe]) != "HTTP/1.1 200 OK")
        // A TLS hello is not HTTP: the connection closes, or the answer is a 4xx.
        let tls = Self.raw(port, [0x16, 0x03, 0x01, 0x00, 0xff] + Array(repeating: 0, count: 300))
        #expect(tls == nil || tls!.contains(" 4"), "\(tls ?? "closed")")

        // A client that sends one byte a second is cut off, and does not block the others.
        // On a thread of its own: its sleep(1) calls would hold one of the few threads of Swift
        // concurrency's pool for many seconds, and every other test would wait for it.
        let slow = Task { try await offTheConcurrencyPool { () -> (bytes: Int, seconds: Double) in
            guard let fd = Loopback.connect(port) else { return (0, 0) }
            defer { close(fd) }
            let start = Date()
            var sent = 0
            var scratch = [UInt8](repeating: 0, count: 64)
            for byte in Array("GET /slow HTTP/1.1\r\nHost: a-very-slow-client\r\n".utf8) {
                // The server closing the connection shows up as end of file.
                if recv(fd, &scratch, scratch.count, Int32(MSG_DONTWAIT)) == 0 { break }
                if send(fd, [byte], 1, Int32(MSG_NOSIGNAL)) <= 0 { break }
                sent += 1
                sleep(1)
            }
            return (sent, Date().timeIntervalSince(start))
        } }

        // Hundreds of connections at once, and a flood of callbacks with the wrong state.
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<300 {
                group.addTask {
                    let page = try await Browserless.request("http://127.0.0.1:\(port)/auth/callback/oauth?code=c\(i)&state=wrong\(i)")
                    return page.status
                }
            }
            for try await status in group { #expect(status == 400) }
        }
        #expect(setup.server.requestCount(path: "/v1/oauth/token") == 0)

        let slowClient = try await slow.value
        #expect(slowClient.seconds < 14, "the slow client was not cut off (\(slowClient.bytes) bytes in \(slowClient.seconds) s)")
        #expect(running.started.process.isRunning, "the login is still waiting")

        // The legitimate callback still completes.
        let page = try await running.approveInBrowser(at: setup.server, url: url)
        #expect(page.status == 200)
        #expect(try await running.finish().status == 0)
    }
}
