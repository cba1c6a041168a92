import Foundation

/// One request as a fake server received it.
struct RecordedRequest: Sendable {
    let method: String
    /// Path and query exactly as sent.
    let uri: String
    /// Lowercased names; a repeated header's values joined with ", " (RFC 9110 §5.3).
    let headers: [String: String]
    let body: [UInt8]

    var path: String { String(uri.prefix { $0 != "?" }) }

    var query: [String: String] {
        guard let mark = uri.firstIndex(of: "?") else { return [:] }
        return FormCoding.decode(uri[uri.index(after: mark)...])
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    var formBody: [String: String] { FormCoding.decode(Substring(bodyText)) }

    /// The body as a JSON object, or nil when it is not one.
    var jsonBody: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// `grant_type` from a JSON body (Notion) or a form body (OAuth servers such as Notion MCP).
    var grantType: String? {
        (jsonBody?["grant_type"] as? String) ?? formBody["grant_type"]
    }

    func header(_ name: String) -> String? {
        headers[name.lowercased()]
    }

    /// The media type of Content-Type, lowercased and without parameters.
    var mediaType: String? {
        header("content-type").map {
            $0.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces).lowercased()
        }
    }

    /// RFC 6749 §2.3.1: the id and secret are each form-encoded before they are joined, so
    /// the first ':' separates them and each part is form-decoded.
    var basicCredentials: (id: String, secret: String)? {
        guard let encoded = credentials(scheme: "basic"),
            let data = Data(base64Encoded: encoded),
            let decoded = String(data: data, encoding: .utf8),
            let colon = decoded.firstIndex(of: ":")
        else { return nil }
        return (FormCoding.decodeComponent(decoded[..<colon]), FormCoding.decodeComponent(decoded[decoded.index(after: colon)...]))
    }

    var bearerToken: String? { credentials(scheme: "bearer") }

    private func credentials(scheme: String) -> String? {
        guard let value = header("authorization") else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == scheme else { return nil }
        let credentials = parts[1].trimmingCharacters(in: .whitespaces)
        return credentials.isEmpty ? nil : credentials
    }
}
