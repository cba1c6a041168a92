import CSodium

/// Key material in memory that libsodium guards and zeroes when released (`sodium_malloc`
/// places it between guard pages; `sodium_free` wipes it), so keys never live in a `String`.
public final class SecureBytes: @unchecked Sendable {
    // @unchecked: the buffer is written only during initialisation and read-only afterwards.
    private let pointer: UnsafeMutableRawPointer
    public let count: Int

    /// An uninitialised buffer, filled by `fill`, which runs before anyone else sees it.
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        Sodium.ensureInitialized()
        guard let pointer = sodium_malloc(max(count, 1)) else {
            fatalError("sodium_malloc failed: out of memory")
        }
        self.pointer = pointer
        self.count = count
        do {
            try fill(UnsafeMutableRawBufferPointer(start: pointer, count: count))
        } catch {
            sodium_free(pointer)
            throw error
        }
    }

    public convenience init<Bytes: Collection>(copying bytes: Bytes) where Bytes.Element == UInt8 {
        self.init(count: bytes.count) { buffer in
            _ = buffer.initializeMemory(as: UInt8.self, from: bytes)
        }
    }

    /// A buffer of `count` bytes from libsodium's CSPRNG.
    public static func random(count: Int) -> SecureBytes {
        SecureBytes(count: count) { randombytes_buf($0.baseAddress!, $0.count) }
    }

    deinit { sodium_free(pointer) }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Constant-time comparison, for tests and for checking a repeated passphrase.
    public func constantTimeEquals(_ other: SecureBytes) -> Bool {
        count == other.count && withUnsafeBytes { a in
            other.withUnsafeBytes { b in sodium_memcmp(a.baseAddress!, b.baseAddress!, count) == 0 }
        }
    }
}
