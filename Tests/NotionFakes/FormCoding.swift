import Foundation
import NotionAuthCore

/// application/x-www-form-urlencoded as the fakes read and write it. Written apart from
/// NotionAuthCore's own encoder on purpose: the fakes check notionauth, not themselves.
enum FormCoding {
    /// Decodes a query or form body; the first of repeated names wins.
    static func decode(_ text: Substring) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decodeComponent(parts[0])
            if result[name] == nil {
                result[name] = parts.count > 1 ? decodeComponent(parts[1]) : ""
            }
        }
        return result
    }

    static func decodeComponent(_ part: Substring) -> String {
        let spaced = part.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// Encodes everything but RFC 3986 unreserved characters, so a state holding `&`, `=`, `+` or
    /// spaces survives the round trip through any decoder.
    static func percentEncode(_ value: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    /// `uri` with the items that have a value appended to its query.
    static func appendingQuery(to uri: String, _ items: [(String, String?)]) -> String {
        let query = items.compactMap { name, value in value.map { "\(name)=\(percentEncode($0))" } }
        return uri + (uri.contains("?") ? "&" : "?") + query.joined(separator: "&")
    }
}

enum PKCE {
    /// RFC 7636's S256 challenge of `verifier`: base64url of its SHA-256, unpadded.
    static func s256(_ verifier: String) -> String {
        Data(Sodium.sha256(Array(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
