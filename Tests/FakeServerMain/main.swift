import Foundation
@testable import NotionFakes

// Usage: notionauth-fake-server [LIFETIME_SECONDS]
// Starts the fake Notion on a loopback port for scripts/bench, with client "bench-client" /
// "bench-secret" registered for any 127.0.0.1 redirect URI on ports 7990–7999, and prints
// its base URL. When standard input closes it prints the number of refresh requests it saw
// and exits.
let lifetime = CommandLine.arguments.dropFirst().first.flatMap { Int($0) }
let server = try await FakeNotionServer.start()
server.registerClient(id: "bench-client", secret: "bench-secret", redirectURIs: (7990...7999).map { "http://127.0.0.1:\($0)/auth/callback/oauth" })
server.setAccessTokenLifetime(seconds: lifetime)
FileHandle.standardOutput.write(Data((server.baseURL + "\n").utf8))
while readLine() != nil {}
print("refresh_requests \(server.refreshRequestCount())")
print("token_requests \(server.requestCount(path: "/v1/oauth/token"))")
try await server.stop()
