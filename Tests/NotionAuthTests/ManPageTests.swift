import Foundation
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

@Suite struct ManPageTests {
    static let pages = ["notionauth.1", "notionauth-vault.5", "notionauth-providers.5", "notionauth-store.5"]

    static func path(_ page: String) -> String { Binary.repositoryRoot + "/man/" + page }

    /// The page as a person reads it, without formatting, on one long line per paragraph.
    static func rendered(_ page: String) async throws -> String {
        let sandbox = try Sandbox()
        let result = try await Binary.run("/usr/bin/mandoc", ["-T", "utf8", "-O", "width=400", path(page)], environment: sandbox.environment, directory: sandbox.root)
        #expect(result.status == 0)
        // Strip overstrike bold/underline (x\bx, _\bx).
        return result.stdout.replacingOccurrences(of: ".\u{8}", with: "", options: .regularExpression)
    }

    @Test(arguments: pages)
    func passesMandocLintWithoutWarnings(page: String) async throws {
        let sandbox = try Sandbox()
        let result = try await Binary.run("/usr/bin/mandoc", ["-T", "lint", "-W", "warning", Self.path(page)], environment: sandbox.environment, directory: sandbox.root)
        #expect(result.stdout.isEmpty && result.stderr.isEmpty, "\(result.stdout)\(result.stderr)")
        #expect(result.status == 0)
    }

    @Test(arguments: pages)
    func rendersWithMan(page: String) async throws {
        let sandbox = try Sandbox()
        let result = try await Binary.run("/usr/bin/man", ["-l", Self.path(page)], environment: sandbox.environment.merging(["MANPAGER": "cat", "PAGER": "cat"]) { $1 }, directory: sandbox.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("NAME"))
    }

    @Test func documentsEveryCommandAndOption() async throws {
        let text = try await Self.rendered("notionauth.1")
        for spec in CommandSpec.all {
            #expect(text.contains("notionauth \(spec.name)") || text.contains(" \(spec.name) "), "command \(spec.name)")
            for option in spec.options + CommandSpec.globalOptions {
                #expect(text.contains("--\(option.name)"), "\(spec.name) --\(option.name)")
            }
        }
    }

    @Test func documentsEveryExitStatus() async throws {
        let text = try await Self.rendered("notionauth.1")
        guard let section = text.range(of: "EXIT STATUS") else { Issue.record("no EXIT STATUS section"); return }
        let tail = String(text[section.upperBound...])
        for status in [0, 1, 2, 3, 4, 5, 130] {
            #expect(tail.contains("\(status)"), "exit status \(status)")
        }
    }

    /// Every `environment["NAME"]` the sources read appears in the ENVIRONMENT section.
    @Test func documentsEveryEnvironmentVariableTheCodeReads() async throws {
        let text = try await Self.rendered("notionauth.1")
        let sources = Binary.repositoryRoot + "/Sources"
        var names = Set<String>()
        let enumerator = FileManager.default.enumerator(atPath: sources)!
        let pattern = try NSRegularExpression(pattern: #"environment\["([A-Z_]+)"\]|for name in \[([^\]]+)\]"#)
        while let file = enumerator.nextObject() as? String {
            guard file.hasSuffix(".swift") else { continue }
            let source = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
            for match in pattern.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
                for group in 1...2 {
                    guard let range = Range(match.range(at: group), in: source) else { continue }
                    for name in source[range].split(separator: ",") {
                        let trimmed = name.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
                        if trimmed.allSatisfy({ $0.isUppercase || $0 == "_" }) { names.insert(trimmed) }
                    }
                }
            }
        }
        #expect(names.contains("NOTIONAUTH_VAULT_KEY"))
        for name in names.sorted() {
            #expect(text.contains(name), "\(name) is read by the code but not documented")
        }
    }

    @Test func vaultPageDocumentsTheHeaderLayout() async throws {
        let text = try await Self.rendered("notionauth-vault.5")
        for fact in ["NAUTHVLT", "XChaCha20-Poly1305", "Argon2id", "140"] {
            #expect(text.contains(fact), "\(fact)")
        }
    }

    @Test func providersPageShowsTheBundledNotionDefinition() async throws {
        let text = try await Self.rendered("notionauth-providers.5")
        for key in ["schema_version", "authorize_params", "client_auth", "token_body", "identity_path", "NOTION_CLIENT_ID", "$.oauth.token_url"] {
            #expect(text.contains(key), "\(key)")
        }
    }
}
