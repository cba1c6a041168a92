import NotionAuthCore
#if canImport(Glibc)
import Glibc
#endif

/// The CA bundle a proxied child verifies TLS with: the roots it would have trusted anyway
/// plus the run's CA, in a directory of its own (0700, the file 0600) that the run removes.
struct RunCABundle {
    let directory: String
    let path: String

    /// Where distributions keep their roots (Debian and Ubuntu, Fedora and RHEL, Alpine and
    /// macOS, openSUSE), first found wins.
    static let systemBundles = [
        "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem",
        "/etc/ssl/ca-bundle.pem",
    ]

    /// The variables, in the child's environment, that name a CA bundle: OpenSSL (and with it
    /// Python's ssl, Ruby), Python requests, curl, Node (extra certificates), git.
    static let bundleVariables = ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "GIT_SSL_CAINFO"]

    /// Writes the bundle. The roots are the files the user's own variables named, if any
    /// (so a company CA they already trust keeps working), else the system's.
    init(runCA: String, environment: [String: String], warn: (String) -> Void) throws(NotionauthError) {
        var sources: [String] = []
        for name in Self.bundleVariables {
            if let file = environment[name], !file.isEmpty, !sources.contains(file), FileSystem.exists(file) { sources.append(file) }
        }
        if sources.allSatisfy({ $0 == environment["NODE_EXTRA_CA_CERTS"] }), let system = Self.systemBundles.first(where: FileSystem.exists) {
            sources.insert(system, at: 0)
        }
        var bundle: [UInt8] = []
        for source in sources {
            guard let contents = try? FileSystem.readFile(source) else { continue }
            bundle += contents.bytes
            if bundle.last != UInt8(ascii: "\n") { bundle.append(UInt8(ascii: "\n")) }
        }
        if bundle.isEmpty {
            warn("found no CA certificates to give the child besides the run's own (looked in \(Self.systemBundles.joined(separator: ", "))): its HTTPS to other hosts will not verify")
        }
        bundle += Array(runCA.utf8)

        let base = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/notionauth-run.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw .io(path: base, reason: "cannot make a private directory for the run's CA bundle: \(String(cString: strerror(errno)))")
        }
        directory = String(cString: made)
        path = directory + "/ca-bundle.pem"
        do {
            _ = try FileSystem.createExclusive(path, bytes: bundle, mode: 0o600)
        } catch {
            rmdir(directory)
            throw error
        }
    }

    /// Every bundle variable names the bundle.
    var environment: [String: String] {
        Dictionary(uniqueKeysWithValues: Self.bundleVariables.map { ($0, path) })
    }

    func remove() {
        try? FileSystem.remove(path)
        // A leftover from createExclusive's temporary name, if it was interrupted.
        if let entries = opendir(directory) {
            while let entry = readdir(entries) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name != "." && name != ".." { unlink(directory + "/" + name) }
            }
            closedir(entries)
        }
        rmdir(directory)
    }
}
