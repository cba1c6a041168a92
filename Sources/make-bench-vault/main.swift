import NotionAuthCore
#if canImport(Glibc)
import Glibc
#endif

// Usage: make-bench-vault VAULT COUNT
// Writes a key-file vault holding COUNT notion connections ("default" and c1…) in one
// write, for scripts/bench; logging in COUNT times would take quadratic time.
let arguments = CommandLine.arguments
guard arguments.count == 3, let count = Int(arguments[2]), count >= 1 else {
    print("usage: make-bench-vault VAULT COUNT")
    exit(2)
}
let vault = Vault(path: arguments[1], keys: VaultKeys(environmentKey: nil) { _ throws(NotionauthError) in
    throw .failure("make-bench-vault writes key-file vaults only")
})
do {
    try vault.update { (contents: inout VaultContents) throws(NotionauthError) in
        for i in 0..<count {
            let name = i == 0 ? "default" : "c\(i)"
            var connection = Connection(provider: "notion", name: name, kind: .oauth, accessToken: "ntn_bench_access_token_\(i)_0123456789abcdef0123456789", obtainedAt: 1_790_000_000)
            connection.refreshToken = "nrt_bench_refresh_token_\(i)_0123456789abcdef"
            connection.tokenType = "bearer"
            connection.botID = "6f0b2b9a-5c3e-4f4e-9a51-\(String(100_000_000_000 + i))"
            connection.workspaceID = "0a1b2c3d-4e5f-6a7b-8c9d-\(String(100_000_000_000 + i))"
            connection.workspaceName = "Bench Workspace \(i)"
            connection.workspaceIcon = "🦊"
            connection.ownerJSON = #"{"type":"user","user":{"id":"5e1f2a3b-0000-4000-8000-000000000000","object":"user"}}"#
            contents.store(connection)
        }
    }
} catch {
    print("error: \(error)")
    exit(1)
}
