import Foundation
import NotionAuthCore

/// Where the browser is sent back: `http://127.0.0.1:7998/auth/callback/oauth` unless
/// NOTION_REDIRECT_URI (any loopback http URI) or --port says otherwise.
public struct RedirectTarget: Equatable, Sendable {
    public static let defaultURI = "http://127.0.0.1:7998/auth/callback/oauth"

    public var uri: String
    /// The IP literal to bind: 127.0.0.1, or ::1 for an [::1] redirect URI.
    public var bindHost: String
    public var port: Int
    public var path: String

    /// `bindHost` as a URL writes it.
    public var urlHost: String { bindHost == "::1" ? "[::1]" : bindHost }

    public static func resolve(environment: [String: String], port portOption: Int?) throws(NotionauthError) -> RedirectTarget {
        let configured = environment["NOTION_REDIRECT_URI"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultURI
        guard let components = URLComponents(string: configured), components.scheme == "http",
              let host = components.host, EndpointPolicy.isLoopback(host.hasPrefix("[") || !host.contains(":") ? host : "[\(host)]")
        else {
            throw .usage("NOTION_REDIRECT_URI must be an http URI on 127.0.0.1, localhost or [::1] (got \(configured))", command: "login")
        }
        var target = components
        if let portOption { target.port = portOption }
        guard let port = target.port, port > 0, port < 65536 else {
            throw .usage("the redirect URI needs a port: \(configured)", command: "login")
        }
        let path = target.percentEncodedPath.isEmpty ? "/" : target.percentEncodedPath
        // `/` is where the first-run page lives.
        guard path != "/" else {
            throw .usage("the redirect URI needs a path other than / (such as /auth/callback/oauth): \(configured)", command: "login")
        }
        target.percentEncodedPath = path
        let bindHost = host.contains(":") || host == "[::1]" ? "::1" : "127.0.0.1"
        return RedirectTarget(uri: target.string ?? configured, bindHost: bindHost, port: port, path: path)
    }
}
