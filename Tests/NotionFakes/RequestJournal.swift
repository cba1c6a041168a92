import NIOConcurrencyHelpers

final class RequestJournal: Sendable {
    struct Entries {
        var requests: [RecordedRequest] = []
        var injected: [String: [FakeResponse]] = [:]
        var drops: [String: Int] = [:]
    }

    private let entries = NIOLockedValueBox(Entries())

    var requests: [RecordedRequest] {
        entries.withLockedValue { $0.requests }
    }

    func inject(_ response: FakeResponse, path: String) {
        entries.withLockedValue { $0.injected[path, default: []].append(response) }
    }

    func dropNext(path: String) {
        entries.withLockedValue { $0.drops[path, default: 0] += 1 }
    }

    /// Whether the answer to this request is to be dropped (and counts the drop as done).
    func takeDrop(path: String) -> Bool {
        entries.withLockedValue { entries in
            guard let count = entries.drops[path], count > 0 else { return false }
            entries.drops[path] = count == 1 ? nil : count - 1
            return true
        }
    }

    /// Records the request and hands back the failure injected for its path, if any.
    func record(_ request: RecordedRequest) -> FakeResponse? {
        entries.withLockedValue { entries in
            entries.requests.append(request)
            guard var queue = entries.injected[request.path], !queue.isEmpty else { return nil }
            let response = queue.removeFirst()
            entries.injected[request.path] = queue.isEmpty ? nil : queue
            return response
        }
    }
}
