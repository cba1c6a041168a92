import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NotionAuthCore
import PostgresNIO

/// One connection to the server, used synchronously: the CLI's commands are synchronous, so
/// each statement runs on PostgresNIO's event loop while the calling thread waits, within a
/// bound. Every failure becomes `.store`, naming host:port and what to check.
final class PostgresLink: @unchecked Sendable {
    // @unchecked: `connection` is guarded by `lock`.
    let url: PostgresURL
    private let lock = NIOLock()
    private var connection: PostgresConnection?
    /// Between `begin()` and `commit()`/`rollback()`. A connection lost inside a transaction
    /// took the transaction and its locks with it: the next statement must fail, not run on a
    /// new connection without them (and a COMMIT there would "succeed" with nothing to commit).
    private var inTransaction = false
    private static let logger = Logger(label: "notionauth.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    /// Statements other than lock waits (bounded by lock_timeout) get this long.
    static let statementTimeout: TimeAmount = .seconds(30)

    init(url: PostgresURL) {
        self.url = url
    }

    deinit {
        try? connection?.close().wait()
    }

    /// The open connection, connecting first if needed.
    func connected() throws(NotionauthError) -> PostgresConnection {
        let (current, transaction) = lock.withLock { (connection, inTransaction) }
        if let current, !current.isClosed { return current }
        if transaction {
            throw .store(location: url.location, reason: "the connection to PostgreSQL at \(url.hostAndPort) was lost inside a transaction")
        }
        let url = self.url
        let configuration: PostgresConnection.Configuration
        do {
            configuration = try Self.configuration(url)
        } catch {
            throw .store(location: url.location, reason: "cannot set up TLS for sslmode=\(url.sslMode.rawValue): \(error)")
        }
        let timeout = TimeAmount.seconds(url.connectTimeoutSeconds)
        let opened = try wait(
            timeout: timeout + .seconds(1), doing: "connect",
            PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1, logger: Self.logger),
            // A connection that opens after we gave up on it is closed, not leaked.
            late: { $0.close().whenComplete { _ in } })
        lock.withLock { connection = opened }
        return opened
    }

    private static func configuration(_ url: PostgresURL) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        if let root = url.sslRootCert { tlsConfiguration.trustRoots = .file(root) }
        switch url.sslMode {
        case .disable:
            tls = .disable
        case .allow, .prefer:
            tlsConfiguration.certificateVerification = .none
            tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration))
        case .require:
            // libpq's require encrypts without checking the certificate (unless a root
            // certificate is given, when it behaves as verify-ca).
            tlsConfiguration.certificateVerification = url.sslRootCert == nil ? .none : .noHostnameVerification
            tls = .require(try NIOSSLContext(configuration: tlsConfiguration))
        case .verifyCA:
            tlsConfiguration.certificateVerification = .noHostnameVerification
            tls = .require(try NIOSSLContext(configuration: tlsConfiguration))
        case .verifyFull:
            tlsConfiguration.certificateVerification = .fullVerification
            tls = .require(try NIOSSLContext(configuration: tlsConfiguration))
        }
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls)
        configuration.options.connectTimeout = .seconds(url.connectTimeoutSeconds)
        return configuration
    }

    /// Runs `sql` and returns its rows; `timeout` bounds the wait.
    @discardableResult
    func query(_ sql: PostgresQuery, timeout: TimeAmount = statementTimeout) throws(NotionauthError) -> [PostgresRow] {
        let connection = try connected()
        // A statement we stopped waiting for may still run: the connection's state is unknown,
        // so it is closed, not used again (inside a transaction, that is an error).
        return try wait(
            timeout: timeout, doing: "query", connection.query(sql, logger: Self.logger),
            timedOut: { connection.close().whenComplete { _ in } }).rows
    }

    func begin() throws(NotionauthError) {
        try query("BEGIN")
        lock.withLock { inTransaction = true }
    }

    func commit() throws(NotionauthError) {
        try query("COMMIT")
        lock.withLock { inTransaction = false }
    }

    /// Rolls back the open transaction, if the connection still has one; never throws (a
    /// lost connection has rolled it back already).
    func rollback() {
        guard lock.withLock({ inTransaction }) else { return }
        if (try? query("ROLLBACK")) == nil { close() }
        lock.withLock { inTransaction = false }
    }

    func close() {
        let open = lock.withLock { () -> PostgresConnection? in
            defer { connection = nil; inTransaction = false }
            return connection
        }
        try? open?.close().wait()
    }

    /// Whether `error` is the server's SQLSTATE `code`.
    static func isServerError(_ error: NotionauthError, sqlState: String) -> Bool {
        if case let .store(_, reason) = error { return reason.contains("SQLSTATE \(sqlState)") }
        return false
    }

    private final class Completion<T: Sendable>: @unchecked Sendable {
        // @unchecked: `done` is guarded by `lock`.
        let promise: EventLoopPromise<T>
        private let lock = NIOLock()
        private var done = false
        init(_ promise: EventLoopPromise<T>) { self.promise = promise }
        /// Whether this result was the first, and so the one delivered.
        @discardableResult
        func complete(_ result: Result<T, any Error>) -> Bool {
            guard lock.withLock({ () -> Bool in defer { done = true }; return !done }) else { return false }
            promise.completeWith(result)
            return true
        }
    }

    private struct TimedOut: Error {}

    /// Waits for `future` on the calling thread, at most `timeout`. Only NIO's event loop
    /// does the work, never Swift concurrency's pool: a caller may itself be blocking one of
    /// that pool's few threads. A result that comes after the timeout goes to `late`; at the
    /// timeout, `timedOut` runs.
    private func wait<T: Sendable>(
        timeout: TimeAmount, doing what: String, _ future: EventLoopFuture<T>,
        late: @escaping @Sendable (T) -> Void = { _ in }, timedOut: @escaping @Sendable () -> Void = {}
    ) throws(NotionauthError) -> T {
        let loop = future.eventLoop
        let completion = Completion(loop.makePromise(of: T.self))
        future.whenComplete { result in
            if !completion.complete(result), case let .success(value) = result { late(value) }
        }
        let timer = loop.scheduleTask(in: timeout) {
            if completion.complete(.failure(TimedOut())) { timedOut() }
        }
        defer { timer.cancel() }
        do {
            return try completion.promise.futureResult.wait()
        } catch {
            if what == "connect" { lock.withLock { connection = nil } }
            throw describe(error, timeout: timeout, doing: what)
        }
    }

    private func describe(_ error: any Error, timeout: TimeAmount, doing what: String) -> NotionauthError {
        let target = "PostgreSQL at \(url.hostAndPort)"
        let seconds = timeout.nanoseconds / 1_000_000_000
        if error is TimedOut {
            if what == "connect" {
                return .store(location: url.location, reason: "\(target) did not answer within \(seconds) s; check that the server runs, that the host and port are right and that no firewall drops the connection")
            }
            return .store(location: url.location, reason: "\(target) did not answer within \(seconds) s; check the server's load and the network")
        }
        guard let error = error as? PSQLError else {
            return .store(location: url.location, reason: "\(target): \(String(describing: error))")
        }
        if let info = error.serverInfo {
            let state = info[.sqlState] ?? "?"
            let message = info[.message] ?? "error"
            var hint = ""
            switch state {
            case "28P01", "28000":
                hint = "; check the user and the password (in the URL, PGPASSWORD or ~/.pgpass)"
            case "3D000":
                hint = "; create the database, or check its name in the URL"
            default:
                break
            }
            return .store(location: url.location, reason: "\(target) refused: \(message) (SQLSTATE \(state))\(hint)")
        }
        if let tls = error.underlying, tls is NIOSSLError || tls is NIOSSLExtraError {
            let why: String
            if let extra = tls as? NIOSSLExtraError, extra == .failedToValidateHostname {
                why = "its certificate is not for the host \(url.host) (sslmode=verify-full checks the name; verify-ca checks only the CA)"
            } else if case .handshakeFailed? = tls as? NIOSSLError {
                why = "its certificate did not verify: give the CA's certificate as sslrootcert=PATH (or PGSSLROOTCERT), or check the server's certificate chain"
            } else {
                why = String(describing: tls)
            }
            return .store(location: url.location, reason: "the TLS handshake with \(target) failed: \(why)")
        }
        switch error.code {
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection:
            let underlying = error.underlying.map { ": \(String(describing: $0))" } ?? ""
            return .store(location: url.location, reason: "cannot reach \(target)\(underlying); check that the server runs and listens there (listen_addresses, port), and the host in the URL")
        case .sslUnsupported:
            return .store(location: url.location, reason: "\(target) does not offer TLS, which sslmode=\(url.sslMode.rawValue) requires")
        case .authMechanismRequiresPassword:
            return .store(location: url.location, reason: "\(target) asks for a password and none was found; put it in the URL, PGPASSWORD or ~/.pgpass (mode 0600)")
        case .failedToAddSSLHandler:
            return .store(location: url.location, reason: "\(target): the TLS handshake could not start")
        default:
            return .store(location: url.location, reason: "\(target): \(String(reflecting: error))")
        }
    }
}
