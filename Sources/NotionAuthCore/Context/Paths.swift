/// Where notionauth keeps its files, from the environment and `--vault`.
public struct Paths: Equatable, Sendable {
    /// `$NOTIONAUTH_HOME`, else `$XDG_CONFIG_HOME/notionauth`, else `~/.config/notionauth`.
    public var configDirectory: String
    /// `--vault`, else `$NOTIONAUTH_VAULT`, else `<config>/vault`.
    public var vault: String
    /// User provider definitions: `<config>/providers`.
    public var providersDirectory: String

    public init(environment: [String: String], vaultOption: String?) {
        let config: String
        if let home = environment["NOTIONAUTH_HOME"], !home.isEmpty {
            config = home
        } else if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            config = xdg + "/notionauth"
        } else {
            config = (environment["HOME"] ?? ".") + "/.config/notionauth"
        }
        configDirectory = config
        let vaultEnvironment = environment["NOTIONAUTH_VAULT"].flatMap { $0.isEmpty ? nil : $0 }
        vault = vaultOption ?? vaultEnvironment ?? config + "/vault"
        providersDirectory = config + "/providers"
    }
}
