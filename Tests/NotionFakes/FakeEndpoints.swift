import NIOCore

/// What a fake answers; the HTTP plumbing is shared.
protocol FakeEndpoints: Sendable {
    /// Where token requests go, refreshes among them.
    static var tokenPath: String { get }

    init()

    /// How long to hold the request before `respond`, to imitate a slow server.
    func delay(for request: RecordedRequest) -> TimeAmount
    func respond(to request: RecordedRequest, baseURL: String) -> FakeResponse
}
