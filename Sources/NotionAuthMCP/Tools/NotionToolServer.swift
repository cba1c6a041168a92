import MCP
import NotionAuthCore

/// The MCP server whose tools call Notion's API with a stored connection's token.
public enum NotionToolServer {
    public static func run(broker: Broker, provider: ProviderDefinition, connections: [String], readOnly: Bool) async -> Int32 {
        broker.warn("not built yet")
        return ExitStatus.failure.rawValue
    }
}
