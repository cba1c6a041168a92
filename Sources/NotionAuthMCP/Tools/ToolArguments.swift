import MCP
import NotionAuthCore

/// Why a tool call's arguments were refused, in words an agent can act on.
struct ToolArgumentError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// A tool call's arguments, read by name and type. Everything here came from an agent and is
/// treated as hostile: ids are normalised (`NotionID`), strings and bodies are bounded, and an
/// argument the tool does not declare is refused rather than ignored.
struct ToolArguments {
    /// Notion refuses request bodies over 500 KB; twice that is certainly a mistake.
    static let maxBodyBytes = 1 << 20
    static let maxStringLength = 1 << 16
    static let maxCursorLength = 1024
    static let pageSizes = 1...100

    private let values: [String: Value]
    private var read: Set<String> = []

    init(_ values: [String: Value]?) {
        self.values = values ?? [:]
    }

    /// A required Notion id or Notion URL, as the hyphenated id.
    mutating func id(_ name: String) throws(ToolArgumentError) -> String {
        guard let id = try optionalID(name) else { throw ToolArgumentError("`\(name)` is required") }
        return id
    }

    mutating func optionalID(_ name: String) throws(ToolArgumentError) -> String? {
        guard let text = try optionalString(name, maxLength: NotionID.maxLength) else { return nil }
        guard let id = NotionID.normalise(text) else {
            throw ToolArgumentError("`\(name)` must be a Notion id (32 hex digits, with or without hyphens) or the URL of a Notion page")
        }
        return id
    }

    mutating func string(_ name: String, maxLength: Int = maxStringLength) throws(ToolArgumentError) -> String {
        guard let text = try optionalString(name, maxLength: maxLength) else { throw ToolArgumentError("`\(name)` is required") }
        return text
    }

    mutating func optionalString(_ name: String, maxLength: Int = maxStringLength) throws(ToolArgumentError) -> String? {
        guard let value = take(name) else { return nil }
        guard let text = value.stringValue else { throw ToolArgumentError("`\(name)` must be a string") }
        guard text.utf8.count <= maxLength else { throw ToolArgumentError("`\(name)` is longer than \(maxLength) bytes") }
        return text
    }

    /// One of `choices`.
    mutating func optionalChoice(_ name: String, _ choices: [String]) throws(ToolArgumentError) -> String? {
        guard let text = try optionalString(name, maxLength: 64) else { return nil }
        guard choices.contains(text) else {
            throw ToolArgumentError("`\(name)` must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        return text
    }

    mutating func optionalInt(_ name: String, in range: ClosedRange<Int>) throws(ToolArgumentError) -> Int? {
        guard let value = take(name) else { return nil }
        // JSON has one number type; 10.0 is 10.
        let number = value.intValue ?? value.doubleValue.flatMap { $0 == $0.rounded() && abs($0) < 1e15 ? Int($0) : nil }
        guard let number, range.contains(number) else {
            throw ToolArgumentError("`\(name)` must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    mutating func optionalBool(_ name: String) throws(ToolArgumentError) -> Bool? {
        guard let value = take(name) else { return nil }
        guard let flag = value.boolValue else { throw ToolArgumentError("`\(name)` must be true or false") }
        return flag
    }

    /// A JSON object passed on to Notion as it is (properties, filter, icon…).
    mutating func optionalObject(_ name: String) throws(ToolArgumentError) -> Value? {
        guard let value = take(name) else { return nil }
        guard value.objectValue != nil else { throw ToolArgumentError("`\(name)` must be a JSON object") }
        return value
    }

    mutating func object(_ name: String) throws(ToolArgumentError) -> Value {
        guard let value = try optionalObject(name) else { throw ToolArgumentError("`\(name)` is required") }
        return value
    }

    /// A JSON array passed on to Notion as it is (children, sorts, rich_text).
    mutating func optionalArray(_ name: String) throws(ToolArgumentError) -> Value? {
        guard let value = take(name) else { return nil }
        guard value.arrayValue != nil else { throw ToolArgumentError("`\(name)` must be a JSON array") }
        return value
    }

    mutating func array(_ name: String) throws(ToolArgumentError) -> Value {
        guard let value = try optionalArray(name) else { throw ToolArgumentError("`\(name)` is required") }
        return value
    }

    /// `start_cursor` and `page_size`, as every paginated endpoint takes them.
    mutating func pagination() throws(ToolArgumentError) -> [(String, String)] {
        var pairs: [(String, String)] = []
        if let cursor = try optionalString("start_cursor", maxLength: Self.maxCursorLength) { pairs.append(("start_cursor", cursor)) }
        if let size = try optionalInt("page_size", in: Self.pageSizes) { pairs.append(("page_size", String(size))) }
        return pairs
    }

    /// Refuses what the tool did not read: a misspelt argument must not be silently dropped.
    func finish() throws(ToolArgumentError) {
        let unknown = Set(values.keys).subtracting(read).sorted()
        guard unknown.isEmpty else {
            throw ToolArgumentError("unknown argument\(unknown.count == 1 ? "" : "s"): \(unknown.map { "`\(quoted($0))`" }.joined(separator: ", "))")
        }
    }

    private mutating func take(_ name: String) -> Value? {
        read.insert(name)
        guard let value = values[name], !value.isNull else { return nil }
        return value
    }
}

/// Agent-supplied text quoted back in an error: one line, short.
private func quoted(_ text: String) -> String {
    let line = TerminalText.sanitize(text)
    return line.count > 40 ? String(line.prefix(40)) + "…" : line
}
