/// Notion ids as agents hand them to us: a UUID with or without hyphens, or the address of a
/// page as people copy it from the browser (`https://www.notion.so/Team/Roadmap-<32 hex>?pvs=4`).
/// Whatever comes in, what goes into a request path is exactly 32 hex digits in the hyphenated
/// form, so that an id can never change which endpoint is called.
enum NotionID {
    /// Longer than any address Notion makes; anything bigger is not an id.
    static let maxLength = 2048

    /// The id in hyphenated lower-case form, or nil when `text` is not an id or a Notion URL.
    static func normalise(_ text: String) -> String? {
        guard text.utf8.count <= maxLength else { return nil }
        let hex: Substring
        if text.hasPrefix("https://") || text.hasPrefix("http://") {
            // The id is the end of the last path segment; the query (`?v=`, `?pvs=`) and
            // fragment (a block's anchor) are not part of it.
            let withoutFragment = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let withoutQuery = withoutFragment.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let afterScheme = withoutQuery.drop { $0 != ":" }.dropFirst(3)
            guard let slash = afterScheme.firstIndex(of: "/"),
                let segment = afterScheme[slash...].split(separator: "/").last, segment.utf8.count >= 32
            else { return nil }
            hex = segment.suffix(32)
            // `Title-<id>`: a hyphen or the start of the segment must come right before the id.
            let before = segment.dropLast(32).last
            guard before == nil || before == "-" else { return nil }
        } else {
            guard text.utf8.count == 32 || (text.utf8.count == 36 && hasHyphensOfUUID(text)) else { return nil }
            hex = Substring(text.replacing("-", with: ""))
        }
        guard hex.utf8.count == 32, hex.utf8.allSatisfy(isHexDigit) else { return nil }
        let digits = Array(hex.lowercased())
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(digits[$0]) }.joined(separator: "-")
    }

    private static func hasHyphensOfUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return [8, 13, 18, 23].allSatisfy { bytes[$0] == UInt8(ascii: "-") }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }
}
