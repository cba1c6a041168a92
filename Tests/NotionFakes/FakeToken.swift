import Foundation

/// A token a fake issued: it works until it is revoked or its expiry passes.
protocol FakeToken {
    var expiresAt: Date? { get }
    var revoked: Bool { get }
}

extension FakeToken {
    func isActive(at now: Date) -> Bool {
        !revoked && (expiresAt.map { now < $0 } ?? true)
    }
}
