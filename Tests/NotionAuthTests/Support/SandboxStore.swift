import Foundation
@testable import NotionAuthCore

extension Sandbox {
    /// Points this sandbox at `databaseURL` (NOTIONAUTH_STORE) with `key` (NOTIONAUTH_VAULT_KEY).
    func useStore(_ databaseURL: String, key: String) {
        environment["NOTIONAUTH_STORE"] = databaseURL
        environment["NOTIONAUTH_VAULT_KEY"] = key
    }

    /// A key for NOTIONAUTH_VAULT_KEY: base64 of 32 random bytes.
    static func randomVaultKey() -> String {
        Sodium.randomBytes(32).withUnsafeBytes { Sodium.base64Encode($0) }
    }
}
