import NotionAuthCore

/// What came back to a login's redirect URI, judged the same way wherever it came.
public enum CallbackAnswer: Equatable, Sendable {
    /// The provider redirected back with a code and this login's state.
    case code(String)
    /// The provider redirected back with an error (`access_denied`, …) and this login's state.
    case providerError(code: String, description: String?)
    /// No state, or not this login's: someone else's redirect, or a forged one. Its code is
    /// never exchanged.
    case wrongState
    /// This login's state, but neither a code nor an error.
    case noCode
}

/// One login's redirect URI and state: which addresses name it and which answers are its own.
public struct CallbackCheck: Sendable {
    /// The redirect URI's path, percent-encoded as registered.
    public let path: String
    /// `host:port` values that name the redirect URI, lowercased: its IP literal, and
    /// `localhost`, which is never looked up in DNS (a redirect URI may name it; the listener
    /// is then on 127.0.0.1).
    let authorities: Set<String>
    let state: String

    public init(host: String, port: Int, path: String, state: String) {
        let literal = host.contains(":") ? "[\(host)]" : host
        var authorities: Set<String> = ["\(literal):\(port)", "localhost:\(port)"]
        if port == 80 { authorities.formUnion([literal, "localhost"]) }
        self.authorities = authorities
        self.path = path
        self.state = state
    }

    /// Whether a `Host` header names the redirect URI.
    func names(authority: String) -> Bool {
        authorities.contains(authority.lowercased())
    }

    /// The answer in the query of an address at the redirect URI, decoded as a form ('+' is
    /// a space).
    func answer(query: [String: String]) -> CallbackAnswer {
        // Anything without this login's state is someone else's (or forged): refuse it,
        // never exchange its code, and keep waiting for the real one.
        guard let received = query["state"], constantTimeEqual(received, state) else { return .wrongState }
        if let error = query["error"] { return .providerError(code: error, description: query["error_description"]) }
        guard let code = query["code"], !code.isEmpty else { return .noCode }
        return .code(code)
    }
}

func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
}
