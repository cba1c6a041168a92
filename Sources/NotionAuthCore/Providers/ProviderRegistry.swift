#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A provider definition together with where it came from.
public struct ResolvedProvider: Sendable {
    public enum Source: String, Sendable {
        /// Compiled into the binary from providers/NAME.json.
        case bundled
        /// A user file that replaces a bundled definition of the same name.
        case override
        /// A user file adding a provider notionauth does not ship.
        case user
    }

    public var definition: ProviderDefinition
    public var source: Source
    /// The file it was read from ("(bundled)/notion.json" for compiled-in ones).
    public var file: String
    public var warnings: [String]
}

/// Finds provider definitions: a file in the user's providers directory wins over the
/// bundled definition of the same name.
public struct ProviderRegistry: Sendable {
    public let overridesDirectory: String

    public init(overridesDirectory: String) {
        self.overridesDirectory = overridesDirectory
    }

    public static var bundledNames: [String] { BundledProviders.files.map(\.name) }

    public static func bundledJSON(named name: String) -> String? {
        BundledProviders.files.first { $0.name == name }?.json
    }

    public func resolve(name: String) throws(NotionauthError) -> ResolvedProvider {
        guard ProviderName.isValid(name) else {
            throw .providerNotFound(name, suggestion: suggestion(for: name))
        }
        let path = "\(overridesDirectory)/\(name).json"
        if let file = try FileSystem.readFile(path) {
            // A definition decides where tokens are sent: only trust one nobody else could write.
            try Self.checkTrusted(path, mode: file.mode, owner: file.owner)
            for directory in [overridesDirectory, FileSystem.directoryName(overridesDirectory)] {
                var info = stat()
                if stat(directory, &info) == 0 {
                    try Self.checkTrusted(directory, mode: UInt32(info.st_mode) & 0o7777, owner: UInt32(info.st_uid))
                }
            }
            let (definition, warnings) = try ProviderLoader.load(file.bytes, file: path, expectedName: name)
            let source: ResolvedProvider.Source = Self.bundledJSON(named: name) == nil ? .user : .override
            return ResolvedProvider(definition: definition, source: source, file: path, warnings: warnings)
        }
        return try resolveBundled(name: name)
    }

    /// Refuses, as ssh does with its configuration, a file or directory that someone other
    /// than us (or root) owns or that group or others may write.
    static func checkTrusted(_ path: String, mode: UInt32, owner: UInt32) throws(NotionauthError) {
        if owner != geteuid() && owner != 0 {
            throw .unsafeFile(path: path, reason: "it belongs to another user (uid \(owner)); provider definitions must be your own")
        }
        if mode & 0o022 != 0 {
            throw .unsafeFile(path: path, reason: "others can write it (mode \(octal(mode))); run `chmod go-w \(path)`")
        }
    }

    /// The definition compiled into the binary, ignoring any override file.
    public func resolveBundled(name: String) throws(NotionauthError) -> ResolvedProvider {
        guard let tree = BundledProviders.tree(named: name) else {
            throw .providerNotFound(name, suggestion: suggestion(for: name))
        }
        let file = "(bundled)/\(name).json"
        let (definition, warnings) = try ProviderLoader.validate(tree, file: file, expectedName: name)
        return ResolvedProvider(definition: definition, source: .bundled, file: file, warnings: warnings)
    }

    /// Every provider, bundled and user-defined, sorted by name.
    public func all() throws(NotionauthError) -> [ResolvedProvider] {
        for name in names() where !ProviderName.isValid(name) {
            throw .invalidProvider(file: "\(overridesDirectory)/\(name).json", jsonPath: "$", message: "'\(name)' is not a valid provider name (lowercase letters, digits and '-'); rename the file")
        }
        var result: [ResolvedProvider] = []
        for name in names() {
            result.append(try resolve(name: name))
        }
        return result
    }

    /// The names of every bundled definition and every `*.json` in the providers directory,
    /// sorted, without reading any of them (so a broken file still has its name here).
    public func names() -> [String] {
        let files = Self.listDirectory(overridesDirectory).filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
        return Set(Self.bundledNames + files).sorted()
    }

    /// Only names that could be resolved: a file with an invalid name (too long, say) must
    /// not be offered, least of all as the name that just failed.
    func suggestion(for name: String) -> String? {
        NearMiss.closest(to: name, among: names().filter(ProviderName.isValid))
    }

    static func listDirectory(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names
    }
}

/// "Did you mean …?" for misspelt commands, options and provider names.
public enum NearMiss {
    public static func closest(to word: String, among candidates: [String]) -> String? {
        let scored = candidates.filter { $0 != word }.map { ($0, distance(word, $0)) }.filter { $0.1 <= max(2, word.count / 3) }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
