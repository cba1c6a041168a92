import Foundation
@testable import NotionFakes

// Usage: notionauth-fake-server [mcp] [LIFETIME_SECONDS] [--https CA_FILE]
// Starts a fake on a loopback port for scripts/bench and prints its base URL: the fake Notion,
// with client "bench-client" / "bench-secret" registered for any 127.0.0.1 redirect URI on
// ports 7990–7999; or, with `mcp`, the fake Notion MCP authorization server (dynamic
// registration, introspection). When standard input closes it prints the number of refresh
// requests it saw and exits. With --https, the fake Notion also listens over HTTPS, prints
// that base URL on a second line and writes its CA's certificate to CA_FILE.
var arguments = CommandLine.arguments.dropFirst()
var caFile: String?
if let flag = arguments.firstIndex(of: "--https"), arguments.index(after: flag) < arguments.endIndex {
    caFile = arguments[arguments.index(after: flag)]
    arguments.removeSubrange(flag...arguments.index(after: flag))
}
let mcp = arguments.first == "mcp"
if mcp { arguments = arguments.dropFirst() }
let lifetime = arguments.first.flatMap { Int($0) }

if mcp {
    let server = try await FakeMCPServer.start()
    if let lifetime { server.setAccessTokenLifetime(seconds: lifetime) }
    FileHandle.standardOutput.write(Data((server.baseURL + "\n").utf8))
    while readLine() != nil {}
    print("refresh_requests \(server.refreshRequestCount())")
    try await server.stop()
} else {
    let tls = try caFile.map { _ in try FakeTLS() }
    let server = try await FakeNotionServer.start(tls: tls)
    if let caFile, let tls { try tls.caPEM.write(toFile: caFile, atomically: true, encoding: .utf8) }
    server.registerClient(id: "bench-client", secret: "bench-secret", redirectURIs: (7990...7999).map { "http://127.0.0.1:\($0)/auth/callback/oauth" })
    server.setAccessTokenLifetime(seconds: lifetime)
    FileHandle.standardOutput.write(Data((server.baseURL + "\n" + (tls == nil ? "" : server.secureBaseURL + "\n")).utf8))
    while readLine() != nil {}
    print("refresh_requests \(server.refreshRequestCount())")
    print("token_requests \(server.requestCount(path: "/v1/oauth/token"))")
    try await server.stop()
}
