import Foundation
import NIOHTTP1
import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

/// Inputs that scripts/fuzz found (targets in Tests/Fuzz), replayed through the same API.
/// Crashes run in a child process (an exit test), so a finding fails its own test rather
/// than the whole run.
@Suite struct FuzzRegressionTests {
    /// FuzzCallback: a form body that is not clean percent-encoding (here a byte that is not
    /// UTF-8, as fuzzed; a raw space or '"' does the same) trapped in URLComponents'
    /// `percentEncodedQuery` setter, ending the login.
    @Test func formFieldsOfABodyOutsidePercentEncodingDoNotCrash() async {
        await #expect(processExitsWith: .success) {
            let body = Array("client_id=id&client_secret=se".utf8) + [0x81] + Array("cret&csrf_token=@CSRF@".utf8)
            _ = URLEncoding.formFields(body)
            _ = URLEncoding.formFields(Array("client_id=a b&client_secret=\"c\"".utf8))
        }
    }

    /// The same body posted to the first-run page without an Origin header (curl, a script)
    /// gets a page back, and the listener keeps waiting.
    @Test func firstRunPageAnswersAPostOutsidePercentEncodingWithAPage() async {
        await #expect(processExitsWith: .success) {
            let listener = try! CallbackListener(
                host: "127.0.0.1", port: 0, callbackPath: "/callback", state: "state", firstRunPage: { _ in "<form></form>" })
            let body = Array("client_id=id&client_secret=se".utf8) + [0x81] + Array("cret&csrf_token=wrong".utf8)
            let reply = listener.route(method: .POST, uri: "/", headers: HTTPHeaders(), body: body, respond: { _ in })
            guard case .page? = reply, listener.next(timeoutSeconds: 0) == nil else { exit(1) }
        }
    }

    /// FuzzQuoting: `export --format github-actions` wrote a value holding NUL bytes to
    /// $GITHUB_ENV, where every other format refuses it (no environment can hold one).
    @Test func githubActionsRefusesANULByteLikeEveryOtherFormat() {
        let fuzzed = String(decoding: Array(",%25 %ho x) `echec".utf8) + [UInt8](repeating: 0, count: 8) + Array("ho x` !$a".utf8), as: UTF8.self)
        for value in [fuzzed, "ntn_\u{0}"] {
            #expect(throws: NotionauthError.self) { try ExportFormatter.githubActions([("NOTION_TOKEN", value)], delimiter: "EOF") }
        }
    }
}
