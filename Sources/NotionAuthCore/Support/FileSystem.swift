#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// POSIX file access. The read path of `get` and `export` goes through here rather than
/// Foundation, whose first use costs more than the rest of those commands together.
public enum FileSystem {
    public struct Contents {
        public var bytes: [UInt8]
        /// Permission bits (`st_mode & 0o7777`) and owner of the file that was read.
        public var mode: UInt32
        public var owner: UInt32
    }

    /// Opens `path` for reading, nil when it does not exist. Unless `regularOnly` is false
    /// (a file the user names for one command, which may be a pipe), anything but a regular
    /// file is refused: notionauth's own files are never FIFOs or devices, and opening a
    /// FIFO without O_NONBLOCK would wait forever for a writer.
    static func openForReading(_ path: String, regularOnly: Bool = true) throws(NotionauthError) -> (fd: Int32, info: stat)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | (regularOnly ? O_NONBLOCK : 0))
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .io(path: path, reason: lastError())
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = lastError()
            close(fd)
            throw .io(path: path, reason: reason)
        }
        if regularOnly && (info.st_mode & S_IFMT) != S_IFREG {
            close(fd)
            throw .io(path: path, reason: "not a regular file (\(fileType(info.st_mode))); move it away")
        }
        return (fd, info)
    }

    static func fileType(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: "a FIFO"
        case S_IFDIR: "a directory"
        case S_IFCHR, S_IFBLK: "a device"
        case S_IFSOCK: "a socket"
        default: "not a plain file"
        }
    }

    /// The whole file, or nil when it does not exist. With `regularOnly` false a pipe or
    /// FIFO is read to its end (`api --data @<(…)`).
    public static func readFile(_ path: String, regularOnly: Bool = true) throws(NotionauthError) -> Contents? {
        guard let (fd, info) = try openForReading(path, regularOnly: regularOnly) else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while true {
            if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: 4096)) }
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, reason: lastError())
            }
            if n == 0 { break }
            filled += n
        }
        bytes.removeLast(bytes.count - filled)
        return Contents(bytes: bytes, mode: UInt32(info.st_mode) & 0o7777, owner: UInt32(info.st_uid))
    }

    /// An open file read in ranges with pread, for the vault: `get` reads the header, the
    /// index and one record, never the whole file.
    public final class RangeReader {
        private let fd: Int32
        public let size: Int

        /// nil when the file does not exist.
        public init?(path: String) throws(NotionauthError) {
            guard let (fd, info) = try FileSystem.openForReading(path) else { return nil }
            self.fd = fd
            size = Int(info.st_size)
        }

        deinit { close(fd) }

        /// Exactly `count` bytes at `offset`, or nil if the file ends before them.
        public func read(offset: Int, count: Int) -> [UInt8]? {
            var bytes = [UInt8](repeating: 0, count: count)
            var filled = 0
            while filled < count {
                let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, count - filled, off_t(offset + filled)) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return nil }
                filled += n
            }
            return bytes
        }
    }

    /// The file a symlink at `path` points to; `path` itself when it is not a symlink.
    public static func resolvingSymlink(_ path: String) -> String {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK, let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether standard output is the file at `path` (a shell redirection into it).
    public static func isStandardOutput(_ path: String) -> Bool {
        var out = stat()
        var file = stat()
        guard fstat(1, &out) == 0, stat(path, &file) == 0 else { return false }
        return out.st_dev == file.st_dev && out.st_ino == file.st_ino
    }

    /// The size of the file at `path`; 0 when there is none.
    public static func size(of path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Creates `path` and its missing parents with `mode` (0700 for notionauth's directories).
    public static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(NotionauthError) {
        if path.isEmpty || exists(path) { return }
        let parent = directoryName(path)
        if parent != path { try makeDirectory(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw .io(path: path, reason: lastError())
        }
    }

    public static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    public static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Replaces `path` with `bytes` so that a crash at any moment leaves either the old or the
    /// new file: a fresh 0600 temp file in the same directory, fsync, rename, fsync the directory.
    public static func writeAtomically(_ path: String, bytes: [UInt8], mode: mode_t = 0o600) throws(NotionauthError) {
        try ReservedReplacement(for: path, reserving: bytes.count, mode: mode).commit(bytes)
    }

    /// The temporary file of an atomic replacement, with its disk space allocated up front.
    /// A refresh reserves the space before it asks the provider for a new token pair: once
    /// the provider has rotated the pair, a full disk must not be able to lose it.
    public final class ReservedReplacement {
        public let path: String
        public let reserved: Int
        private let tempPath: String
        private var fd: Int32

        /// Fails with `.noSpace` when the file system cannot give `bytes` bytes.
        public init(for path: String, reserving bytes: Int, mode: mode_t = 0o600) throws(NotionauthError) {
            self.path = path
            var template = Array("\(directoryName(path))/.\(baseName(path)).tmp-XXXXXX".utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else {
                if errno == ENOSPC || errno == EDQUOT { throw .noSpace(path: path) }
                throw .io(path: path, reason: "cannot create a temporary file: \(lastError())")
            }
            tempPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            self.fd = fd
            reserved = bytes
            guard fchmod(fd, mode) == 0 else { throw .io(path: tempPath, reason: lastError()) }
            if bytes > 0 {
                // posix_fallocate returns the error rather than setting errno.
                let result = posix_fallocate(fd, 0, off_t(bytes))
                if result == ENOSPC || result == EDQUOT || result == EFBIG { throw .noSpace(path: path) }
                guard result == 0 else { throw .io(path: tempPath, reason: "cannot allocate space: \(String(cString: strerror(result)))") }
                guard fsync(fd) == 0 else { throw .io(path: tempPath, reason: "fsync: \(lastError())") }
            }
        }

        deinit {
            if fd >= 0 {
                close(fd)
                unlink(tempPath)
            }
        }

        /// Writes `bytes` into the reserved space, syncs it and renames it over `path`.
        public func commit(_ bytes: [UInt8]) throws(NotionauthError) {
            try writeAndClose(bytes)
            guard rename(tempPath, path) == 0 else {
                let reason = lastError()
                unlink(tempPath)
                throw .io(path: path, reason: "rename: \(reason)")
            }
            syncDirectory(directoryName(path))
        }

        /// Like `commit`, but creates `path` only if it does not exist yet (hard link, which
        /// fails on an existing name): whole or not at all. False when `path` exists.
        public func commitIfAbsent(_ bytes: [UInt8]) throws(NotionauthError) -> Bool {
            try writeAndClose(bytes)
            defer { unlink(tempPath) }
            if link(tempPath, path) != 0 {
                if errno == EEXIST { return false }
                throw .io(path: path, reason: lastError())
            }
            syncDirectory(directoryName(path))
            return true
        }

        private func writeAndClose(_ bytes: [UInt8]) throws(NotionauthError) {
            try writeAll(fd, bytes, path: tempPath)
            guard ftruncate(fd, off_t(bytes.count)) == 0 else { throw .io(path: tempPath, reason: "truncate: \(lastError())") }
            guard fsync(fd) == 0 else { throw .io(path: tempPath, reason: "fsync: \(lastError())") }
            close(fd)
            fd = -1
        }
    }

    /// Creates a new file that must not exist yet, whole or not at all: written and fsynced
    /// under a temporary name, then hard-linked into place (which fails if `path` exists).
    /// False when `path` already exists.
    public static func createExclusive(_ path: String, bytes: [UInt8], mode: mode_t = 0o600) throws(NotionauthError) -> Bool {
        try ReservedReplacement(for: path, reserving: bytes.count, mode: mode).commitIfAbsent(bytes)
    }

    /// Appends to a file that someone else owns (such as $GITHUB_ENV), creating it if needed.
    public static func append(_ path: String, bytes: [UInt8]) throws(NotionauthError) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: path, reason: lastError()) }
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
    }

    public static func remove(_ path: String) throws(NotionauthError) {
        if unlink(path) != 0 && errno != ENOENT { throw .io(path: path, reason: lastError()) }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(NotionauthError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, reason: lastError())
            }
            written += n
        }
    }

    private static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    static func lastError() -> String {
        String(cString: strerror(errno))
    }
}

/// An exclusive advisory lock (flock) on a lock file that is never replaced, held for a
/// whole read-modify-write so concurrent processes serialise instead of losing updates.
public final class FileLock {
    private let fd: Int32

    public init(path: String) throws(NotionauthError) {
        // O_NONBLOCK: a FIFO planted at the lock's path must not hang the open.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0o600)
        guard fd >= 0 else { throw .io(path: path, reason: "cannot open lock file: \(FileSystem.lastError())") }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .io(path: path, reason: "the lock file is not a regular file; move it away")
        }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let reason = FileSystem.lastError()
            close(fd)
            throw .io(path: path, reason: "cannot lock: \(reason)")
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
