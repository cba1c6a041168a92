import NotionAuthCore

/// Relays MCP between standard input/output and a hosted MCP server's streamable-HTTP
/// endpoint, adding the stored connection's bearer token.
public enum NotionMCPBridge {
    public static func run(broker: Broker, provider: ProviderDefinition, connection: String) async -> Int32 {
        broker.warn("the bridge to \(provider.displayName) is not built yet")
        return ExitStatus.failure.rawValue
    }
}
