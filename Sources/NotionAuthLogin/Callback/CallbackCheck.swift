import NotionAuthCore

/// What came back to a login's redirect URI, judged the same way whether the browser brought
/// it to the listener or the person pasted the address into the terminal.
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
    /// Pasted text that is not an address at the redirect URI: garbage, the authorize URL,
    /// another host, port or path. (The listener answers those with 404 and 400 pages.)
    case notTheRedirectURI
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

    /// Whether a `Host` header, or the authority of a pasted address, names the redirect URI.
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

    /// A line pasted into the terminal, which must be the whole address the browser was sent
    /// to (`http://127.0.0.1:7998/auth/callback/oauth?code=…&state=…`): what a browser copies
    /// from its address bar, and the only text that shows the person pasted the right thing.
    /// Nil for a blank line. Whoever typed it may have typed anything: it is read byte by
    /// byte, never through URLComponents (which traps on some bytes).
    func answer(pasted line: [UInt8]) -> CallbackAnswer? {
        var text = Self.trimmed(line[...])
        // A terminal left in bracketed-paste mode wraps what is pasted in ESC[200~ … ESC[201~.
        let open = Array("\u{1B}[200~".utf8), close = Array("\u{1B}[201~".utf8)
        if text.starts(with: open) { text = text.dropFirst(open.count) }
        if text.count >= close.count && text.suffix(close.count).elementsEqual(close) { text = text.dropLast(close.count) }
        text = Self.trimmed(text)
        guard !text.isEmpty else { return nil }
        // A browser copies an address percent-encoded: printable ASCII without spaces.
        guard text.allSatisfy({ (0x21...0x7E).contains($0) }) else { return .notTheRedirectURI }
        // The fragment never reaches a server, so the listener never sees one either.
        if let hash = text.firstIndex(of: UInt8(ascii: "#")) { text = text[..<hash] }
        let scheme = Array("http://".utf8)
        guard text.count > scheme.count, text.prefix(scheme.count).map(Self.lowercased).elementsEqual(scheme) else { return .notTheRedirectURI }
        let rest = text.dropFirst(scheme.count)
        let queryStart = rest.firstIndex(of: UInt8(ascii: "?")) ?? rest.endIndex
        let pathStart = rest[..<queryStart].firstIndex(of: UInt8(ascii: "/")) ?? queryStart
        let authority = String(decoding: rest[..<pathStart], as: UTF8.self)
        let pastedPath = String(decoding: rest[pathStart..<queryStart], as: UTF8.self)
        guard names(authority: authority), pastedPath == path else { return .notTheRedirectURI }
        let query = queryStart < rest.endIndex ? Array(rest[rest.index(after: queryStart)...]) : []
        return answer(query: URLEncoding.formFields(query))
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let blank: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        guard let first = bytes.firstIndex(where: { !blank.contains($0) }), let last = bytes.lastIndex(where: { !blank.contains($0) }) else { return [] }
        return bytes[first...last]
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }
}

func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
}
