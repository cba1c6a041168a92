import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NotionAuthCore

/// A fake server's answer as the tests that talk to it directly read it.
struct Reply {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var json: [String: Any] {
        ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:]
    }

    /// The body as JSONValue, for walking nested objects; `.null` when it is not JSON.
    var value: JSONValue {
        (try? JSONValue.parse(body)) ?? .null
    }
}

/// One request to a fake server, with exactly these headers.
func send(
    _ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: String? = nil
) async throws -> Reply {
    var request = HTTPClientRequest(url: url)
    request.method = method
    request.headers = HTTPHeaders(headers)
    if let body {
        request.body = .bytes(ByteBuffer(string: body))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 1 << 20)
    return Reply(status: Int(response.status.code), headers: response.headers, body: Array(buffer: bytes))
}
