import Testing
@testable import NotionAuthMCP

/// The bridge's reading of `text/event-stream` bodies, fed in pieces as the network delivers them.
@Suite struct BridgeEventStreamTests {
    @Test func eventsSplitAcrossChunksWithAnyLineEndingComeWhole() {
        var parser = ServerSentEventParser()
        let stream = Array(": ping\r\nid: 7\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\nevent: message\ndata: {\"b\":2}\n\nid: 8\rdata:{\"c\":3}\r\r".utf8)
        var events: [ServerSentEventParser.Event] = []
        for start in stride(from: 0, to: stream.count, by: 5) {
            events += parser.feed(stream[start..<min(start + 5, stream.count)])
        }
        #expect(events.map { String(decoding: $0.data, as: UTF8.self) } == ["{\"a\":\n1}", "{\"b\":2}", "{\"c\":3}"])
        #expect(events.map(\.id) == ["7", "7", "8"])
        #expect(events.allSatisfy { $0.type == "message" })
        #expect(parser.lastEventID == "8")
    }

    @Test func aPrimingEventMovesTheIdWithoutAMessageAndRetryIsKept() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("id: s-1\nretry: 1500\ndata:\n\n".utf8)).isEmpty)
        #expect(parser.lastEventID == "s-1")
        #expect(parser.retry == 1500)
        #expect(parser.feed(Array("event: other\ndata: x\n\n".utf8)).map(\.type) == ["other"])
    }
}
