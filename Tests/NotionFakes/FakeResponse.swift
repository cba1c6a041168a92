import Foundation
import NotionAuthCore

struct FakeResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    static func json(_ status: Int, _ object: [String: Any], headers: [(String, String)] = []) -> FakeResponse {
        // Sorted keys keep bodies byte-for-byte repeatable for tests that compare them.
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return json(status, bytes: Array(data), headers: headers)
    }

    /// The content API keeps its objects as JSONValue, whose encoding sorts keys too.
    static func json(_ status: Int, _ value: JSONValue, headers: [(String, String)] = []) -> FakeResponse {
        json(status, bytes: Array(value.encoded().utf8), headers: headers)
    }

    private static func json(_ status: Int, bytes: [UInt8], headers: [(String, String)]) -> FakeResponse {
        FakeResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers, body: bytes)
    }

    static func redirect(to location: String) -> FakeResponse {
        FakeResponse(status: 302, headers: [("Location", location), ("Cache-Control", "no-store")], body: [])
    }

    static func injected(status: Int, body: String, headers: [(String, String)]) -> FakeResponse {
        var headers = headers
        if !body.isEmpty, !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            let isJSON = (try? JSONSerialization.jsonObject(with: Data(body.utf8), options: .fragmentsAllowed)) != nil
            headers.append(("Content-Type", isJSON ? "application/json; charset=utf-8" : "text/plain; charset=utf-8"))
        }
        return FakeResponse(status: status, headers: headers, body: Array(body.utf8))
    }

    static func notionError(_ status: Int, _ code: String, _ message: String) -> FakeResponse {
        json(status, ["object": "error", "status": status, "code": code, "message": message, "request_id": FakeIDs.uuid()])
    }

    /// RFC 6749 §5.2 shape, which Notion's OAuth endpoints are observed to use too.
    static func oauthError(_ status: Int, _ error: String, _ description: String? = nil, headers: [(String, String)] = [])
        -> FakeResponse
    {
        var object: [String: Any] = ["error": error]
        object["error_description"] = description
        return json(status, object, headers: headers)
    }

    static var missingVersion: FakeResponse {
        notionError(
            400, "missing_version",
            "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.")
    }

    static func methodNotAllowed(_ allowed: String) -> FakeResponse {
        notionError(405, "invalid_request_url", "Method not allowed; use \(allowed).").adding(("Allow", allowed))
    }

    static func oauthMethodNotAllowed(_ allowed: String) -> FakeResponse {
        oauthError(405, "invalid_request", "Method not allowed; use \(allowed).", headers: [("Allow", allowed)])
    }

    func adding(_ header: (String, String)) -> FakeResponse {
        var copy = self
        copy.headers.append(header)
        return copy
    }
}

/// Lets the shared pre-checks return either a value or the response that ends the request.
struct FakeResponseError: Error {
    let response: FakeResponse
    init(_ response: FakeResponse) { self.response = response }
}
