/// Splits a `text/event-stream` body into events as its bytes arrive (the WHATWG HTML
/// standard's "event stream interpretation"): lines end in CR, LF or CRLF; a blank line ends
/// an event; `data:` lines join with LF; `id:` persists until changed.
struct ServerSentEventParser {
    struct Event: Equatable {
        var type: String
        var data: [UInt8]
        var id: String?
    }

    private(set) var lastEventID: String?
    /// Milliseconds the server asked the client to wait before reconnecting.
    private(set) var retry: Int?
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var type = ""
    private var afterCR = false

    mutating func feed(_ bytes: some Sequence<UInt8>) -> [Event] {
        var events: [Event] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\r"):
                afterCR = true
                if let event = endLine() { events.append(event) }
            case UInt8(ascii: "\n"):
                if afterCR { afterCR = false; continue }
                if let event = endLine() { events.append(event) }
            default:
                afterCR = false
                line.append(byte)
            }
        }
        return events
    }

    private mutating func endLine() -> Event? {
        defer { line.removeAll(keepingCapacity: true) }
        guard !line.isEmpty else { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        let field = String(decoding: line[..<colon], as: UTF8.self)
        var value = colon < line.endIndex ? line[(colon + 1)...] : []
        if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        switch field {
        case "event": type = String(decoding: value, as: UTF8.self)
        case "data": data += value + [UInt8(ascii: "\n")]
        case "id" where !value.contains(0): lastEventID = String(decoding: value, as: UTF8.self)
        case "retry": if !value.isEmpty, value.allSatisfy({ $0 >= 48 && $0 <= 57 }) { retry = Int(String(decoding: value, as: UTF8.self)) }
        default: break
        }
        return nil
    }

    private mutating func dispatch() -> Event? {
        defer { data.removeAll(); type = "" }
        guard !data.isEmpty else { return nil }
        data.removeLast()
        // An event with an empty data field only moves the id forward (a "priming" event).
        guard !data.isEmpty else { return nil }
        return Event(type: type.isEmpty ? "message" : type, data: data, id: lastEventID)
    }
}
