import AsyncHTTPClient
import Foundation
import NotionAuthCore

/// Relays MCP between standard input/output and a hosted MCP server's streamable-HTTP
/// endpoint, adding the stored connection's bearer token.
///
/// Messages pass through as the bytes they came as, one a line on standard output, which
/// carries nothing else; logs go to standard error, a line each, and never hold a token.
public enum NotionMCPBridge {
    /// How long answers still on their way are waited for once the client closed standard input.
    static let drainSeconds = 10.0

    public static func run(broker: Broker, provider: ProviderDefinition, connection: String) async -> Int32 {
        let stderr = broker.context.stderr
        let log: @Sendable (String) -> Void = { stderr.write("notionauth: mcp: \($0)\n") }
        guard let endpoint = provider.mcp?.url else {
            stderr.write("error: the \(provider.name) provider definition has no mcp.url, so there is no MCP server to bridge to (see notionauth-providers(5))\n")
            return ExitStatus.failure.rawValue
        }
        var configuration = HTTPClient.Configuration()
        do throws(NotionauthError) {
            configuration.tlsConfiguration = try AsyncHTTPTransport.tlsConfiguration(extraRootsFile: broker.context.environment["NOTIONAUTH_CA_FILE"])
        } catch {
            stderr.write("error: \(error.description)\n")
            return error.exitStatus.rawValue
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let transport = StreamableHTTPClientTransport(
            endpoint: endpoint, http: http,
            credentials: BridgeCredentials(broker: broker, provider: provider, connection: connection),
            log: log)
        log("relaying to \(endpoint) with connection '\(connection)'")

        let stdout = broker.context.stdout
        let output = Task {
            do {
                for try await message in await transport.receive() {
                    stdout.write(String(decoding: RelayedMessage.line(message), as: UTF8.self))
                    if stdout.readerClosed { break }
                }
            } catch {}
        }
        let standardInput = StandardIOTransport(logger: MCPLog.logger(label: "notionauth.mcp.bridge"))
        do {
            try await standardInput.connect()
            for try await line in await standardInput.receive() {
                try? await transport.send(line)
                if stdout.readerClosed { break }
            }
        } catch {
            log("cannot read standard input: \(error)")
        }
        await transport.drain(seconds: drainSeconds)
        await transport.disconnect()
        await output.value
        try? await http.shutdown()
        return ExitStatus.success.rawValue
    }
}
