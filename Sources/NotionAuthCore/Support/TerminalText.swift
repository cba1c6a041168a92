/// Text from outside (a provider's workspace name or error, a callback's query) must not
/// drive the terminal it is printed on: an escape sequence could retitle or clear it, a
/// carriage return or newline could forge a line that looks like ours.
public enum TerminalText {
    /// `text` with every C0 control, DEL and C1 control replaced by `?`; newlines too,
    /// unless `keepingNewlines` (for our own multi-line messages, checked as a whole).
    public static func sanitize(_ text: String, keepingNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0, keepingNewlines: keepingNewlines) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            out.append(isControl(scalar, keepingNewlines: keepingNewlines) ? "?" : scalar)
        }
        return String(out)
    }

    static func isControl(_ scalar: Unicode.Scalar, keepingNewlines: Bool) -> Bool {
        switch scalar.value {
        case 0x0A: !keepingNewlines
        case 0x00...0x1F, 0x7F...0x9F: true
        default: false
        }
    }

    /// Whether a credential (token, client id or secret) holds anything that is not a
    /// visible character: controls and white space would corrupt the header it goes into.
    public static func isUsableCredential(_ value: String) -> Bool {
        !value.isEmpty && !value.unicodeScalars.contains { isControl($0, keepingNewlines: false) || $0.properties.isWhitespace }
    }
}
