/// Exit statuses, one table for the whole program (documented in notionauth(1)).
public enum ExitStatus: Equatable, Sendable {
    case success
    case failure
    case usage
    case notFound
    case authenticationNeeded
    case vaultUnavailable
    case interrupted
    /// Standard output's reader went away: 128 + SIGPIPE, as a shell reports a process
    /// that SIGPIPE ended.
    case readerClosed
    /// `run` passes its child's status through unchanged.
    case childStatus(Int32)

    public var rawValue: Int32 {
        switch self {
        case .success: 0
        case .failure: 1
        case .usage: 2
        case .notFound: 3
        case .authenticationNeeded: 4
        case .vaultUnavailable: 5
        case .interrupted: 130
        case .readerClosed: 141
        case let .childStatus(status): status
        }
    }
}

/// The one error type users see. Each message says what happened and what to do next.
public enum NotionauthError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The command line is wrong; `command` names the command whose help explains it.
    case usage(String, command: String?)
    case providerNotFound(String, suggestion: String?)
    case connectionNotFound(provider: String, connection: String)
    case fieldNotFound(String, available: [String])
    /// There is no credential for this connection at all.
    case notLoggedIn(provider: String, connection: String)
    /// The provider refused a credential or the login (invalid token, denied consent…).
    case authenticationFailed(String)
    /// The stored credential exists but can no longer be used.
    case credentialUnusable(provider: String, connection: String, status: String)
    /// The vault exists but cannot be opened: wrong key, tampered, corrupt, unsafe permissions.
    case vault(path: String, reason: String)
    /// A store other than the file vault cannot be reached or opened (unreachable database,
    /// no schema, a row that does not open); `location` never holds a password.
    case store(location: String, reason: String)
    /// A provider definition file is malformed: `jsonPath` points at the bad field.
    case invalidProvider(file: String, jsonPath: String, message: String)
    case network(String)
    case io(path: String, reason: String)
    /// The file system could not give the space a write needs; nothing was changed.
    case noSpace(path: String)
    /// A file or directory that others could have written (or that another user owns) is
    /// not trusted: it could redirect tokens (ssh refuses such files the same way).
    case unsafeFile(path: String, reason: String)
    /// A request was sent but its answer never came (connection closed, read timeout): the
    /// server may have acted on it.
    case noAnswer(String)
    /// A value that the requested output format cannot carry (dotenv has no newlines).
    case unrepresentable(String)
    case interrupted
    case failure(String)

    public var exitStatus: ExitStatus {
        switch self {
        case .usage: .usage
        case .providerNotFound, .connectionNotFound, .fieldNotFound: .notFound
        case .notLoggedIn, .authenticationFailed, .credentialUnusable: .authenticationNeeded
        case .vault, .store, .unsafeFile: .vaultUnavailable
        case .interrupted: .interrupted
        case .invalidProvider, .network, .noAnswer, .io, .noSpace, .unrepresentable, .failure: .failure
        }
    }

    /// A stable machine-readable name, used by `--json` error output.
    public var code: String {
        switch self {
        case .usage: "usage"
        case .providerNotFound: "provider_not_found"
        case .connectionNotFound: "connection_not_found"
        case .fieldNotFound: "field_not_found"
        case .notLoggedIn: "not_logged_in"
        case .authenticationFailed: "authentication_failed"
        case .credentialUnusable: "credential_unusable"
        case .vault: "vault_unavailable"
        case .store: "store_unavailable"
        case .invalidProvider: "invalid_provider"
        case .network, .noAnswer: "network"
        case .io: "io"
        case .noSpace: "no_space"
        case .unsafeFile: "unsafe_file"
        case .unrepresentable: "unrepresentable"
        case .interrupted: "interrupted"
        case .failure: "failure"
        }
    }

    public var description: String {
        switch self {
        case let .usage(message, command):
            let help = command.map { "notionauth \($0) --help" } ?? "notionauth --help"
            return "\(message) (see `\(help)`)"
        case let .providerNotFound(name, suggestion):
            let hint = suggestion.map { "did you mean '\($0)'? " } ?? ""
            return "no provider '\(name)'; \(hint)run `notionauth list` to see the providers"
        case let .connectionNotFound(provider, connection):
            return "no connection '\(connection)' for \(provider); run `notionauth list` to see the connections"
        case let .fieldNotFound(field, available):
            return "no field '\(field)'; fields: \(available.joined(separator: ", "))"
        case let .notLoggedIn(provider, connection):
            return "not logged in to \(provider) (connection '\(connection)'); run `notionauth login \(provider)\(Self.connectionFlag(connection))`"
        case let .authenticationFailed(message):
            return message
        case let .credentialUnusable(provider, connection, status):
            let flag = Self.connectionFlag(connection)
            return "the \(provider) credential of connection '\(connection)' is \(status); log in again: `notionauth login \(provider)\(flag) --force` (or pipe a new token to `notionauth login \(provider)\(flag) --with-token`)"
        case let .vault(path, reason):
            return "cannot open the vault \(path): \(reason)"
        case let .store(location, reason):
            return "cannot use the store \(location): \(reason)"
        case let .invalidProvider(file, jsonPath, message):
            return "invalid provider definition \(file): \(jsonPath): \(message)"
        case let .network(message), let .noAnswer(message):
            return message
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .noSpace(path):
            return "no space left to write \(path); nothing was changed. Free some disk space and try again"
        case let .unsafeFile(path, reason):
            return "refusing to use \(path): \(reason)"
        case let .unrepresentable(message):
            return message
        case .interrupted:
            return "interrupted"
        case let .failure(message):
            return message
        }
    }

    private static func connectionFlag(_ connection: String) -> String {
        connection == "default" ? "" : " --connection \(connection)"
    }
}
