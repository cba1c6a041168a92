import NIOSSL
@testable import NotionAuthProxy

/// A certificate authority of the tests' own and a certificate from it for 127.0.0.1: a
/// fake server over HTTPS that clients verify against `caPEM` (NOTIONAUTH_CA_FILE, or a CA
/// bundle), never with verification turned off. Made with the CA code `run --proxy` uses,
/// which the real clients in the tests (curl, Python) check independently.
struct FakeTLS: Sendable {
    let context: NIOSSLContext
    let caPEM: String

    init(host: String = "127.0.0.1") throws {
        let authority = try RunCertificateAuthority()
        let (certificate, key) = try authority.issue(forHost: host)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
        configuration.applicationProtocols = ["http/1.1"]
        context = try NIOSSLContext(configuration: configuration)
        caPEM = authority.certificatePEM
    }
}
