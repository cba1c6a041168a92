import Crypto
import Foundation
import NIOSSL
import NotionAuthCore
import SwiftASN1
import X509

/// A certificate authority that exists for one run: its key is made in memory and dies with
/// the process. The child trusts it only through the bundle given to that run, so a
/// certificate it signs is worth nothing to anyone else, or after the run.
struct RunCertificateAuthority {
    private let key: P256.Signing.PrivateKey
    let certificate: Certificate
    /// What the child's CA bundle gets.
    let certificatePEM: String

    /// A new CA. It carries no name constraints: BoringSSL (swift-nio-ssl, Chrome,
    /// gRPC) refused leaf certificates under a CA constrained to their IP address, where
    /// OpenSSL accepted them; the CA's reach is bounded instead by its key, which never leaves
    /// this process, and by the bundle, which only the child reads and which is removed after.
    init() throws(NotionauthError) {
        key = P256.Signing.PrivateKey()
        let now = Date()
        do {
            let name = try DistinguishedName {
                OrganizationName("notionauth")
                CommonName("notionauth run --proxy (pid \(getpid()))")
            }
            certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(),
                publicKey: .init(key.publicKey),
                // A little slack for a child whose clock runs behind.
                notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(7 * 86_400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                },
                issuerPrivateKey: .init(key))
            certificatePEM = try certificate.serializeAsPEM().pemString
        } catch {
            throw .failure("cannot make the run's certificate authority: \(error)")
        }
    }

    /// A server certificate and key for `host` (a name, or an IP address), for the proxy's
    /// side of an intercepted connection.
    func issue(forHost host: String) throws(NotionauthError) -> (certificate: NIOSSLCertificate, key: NIOSSLPrivateKey) {
        let leafKey = P256.Signing.PrivateKey()
        let now = Date()
        do {
            let alternativeName: GeneralName
            if let address = IPAddressBytes(host) {
                alternativeName = .ipAddress(ASN1OctetString(contentBytes: ArraySlice(address.bytes)))
            } else {
                alternativeName = .dnsName(host)
            }
            let leaf = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(),
                publicKey: .init(leafKey.publicKey),
                notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(7 * 86_400),
                issuer: certificate.subject,
                subject: try DistinguishedName { CommonName(host) },
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames([alternativeName])
                },
                issuerPrivateKey: .init(key))
            var serializer = DER.Serializer()
            try serializer.serialize(leaf)
            return (
                try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der),
                try NIOSSLPrivateKey(bytes: Array(leafKey.derRepresentation), format: .der))
        } catch {
            throw .failure("cannot make a certificate for \(TerminalText.sanitize(host)): \(error)")
        }
    }
}

/// An IPv4 or IPv6 address in network order, from its text.
struct IPAddressBytes {
    let bytes: [UInt8]

    init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        let bare = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        if inet_pton(AF_INET6, bare, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }
}
