import Foundation

enum FakeIDs {
    static func uuid() -> String {
        UUID().uuidString.lowercased()
    }

    static func token(prefix: String, length: Int = 43) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return prefix + String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
