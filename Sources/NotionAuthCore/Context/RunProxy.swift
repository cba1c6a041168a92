/// What `run --proxy` asks of the proxy room (NotionAuthProxy), which `notionauth` does not
/// link: the TLS and certificate code stays out of `get` and `export`, and `run --proxy`
/// becomes `notionauth-proxy` (the same CLI with the proxy linked in) before it reads anything.
public enum RunProxy {
    /// Starts a proxy for one run, serving `grants`' API hosts with their tokens.
    public typealias Starter = @Sendable (_ grants: [Grant], _ broker: Broker) throws(NotionauthError) -> any Running

    /// A connection whose token the proxy adds to requests for its provider's API host.
    public struct Grant: Sendable {
        public let provider: ProviderDefinition
        public let connection: Connection

        public init(provider: ProviderDefinition, connection: Connection) {
            self.provider = provider
            self.connection = connection
        }
    }

    /// A proxy serving one run.
    public protocol Running: Sendable {
        /// What the child's environment gets: the proxy's URL (with the run's credential) and
        /// the CA bundle's path, under every name that clients read.
        var childEnvironment: [String: String] { get }
        /// Values handed to the child that must not show in its output (`run --mask`).
        var secrets: [String] { get }
        /// Closes the port and removes the CA bundle and its directory.
        func stop()
    }

    /// What the child's token variables hold instead of a token, so that SDKs that insist
    /// on one start normally.
    public static let placeholder = "notionauth-proxy-managed"

    /// The executable that has the proxy linked in.
    public static let executableName = "notionauth-proxy"
}
