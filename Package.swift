// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "notionauth",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "notionauth", targets: ["notionauth"]),
        .executable(name: "notionauth-mcp", targets: ["notionauth-mcp"]),
        .executable(name: "notionauth-postgres", targets: ["notionauth-postgres"]),
        .executable(name: "notionauth-proxy", targets: ["notionauth-proxy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
        // Already in the graph (the SDK and AsyncHTTPClient use it): named here because the
        // SDK's Transport protocol asks its conformers for a Logger.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.5.0"),
        // The PostgreSQL store (NotionAuthPostgres); TLS through swift-nio-ssl, named here
        // because sslmode builds its TLS configuration.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.25.0"),
        // `run --proxy`'s certificate authority, made for each run (NotionAuthProxy).
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.0.0"),
    ],
    targets: [
        // Debian's libsodium-dev; the module map is in Sources/CSodium.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // Turns providers/*.json into Swift source at build time, so the binary needs no source tree.
        .executableTarget(name: "embed-providers", path: "Sources/embed-providers"),
        .plugin(
            name: "EmbedProviders",
            capability: .buildTool(),
            dependencies: ["embed-providers"]
        ),
        // The rooms, each a target so that the compiler keeps their imports one way:
        // NotionAuthCore ← NotionAuthLogin ← NotionAuthCLI ← notionauth (CONTRIBUTING.md).
        // Core: errors, files, crypto, providers, HTTP, the credential store and the file
        // vault, token refresh — what every consumer of credentials needs.
        .target(
            name: "NotionAuthCore",
            dependencies: [
                "CSodium",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                // Already linked through AsyncHTTPClient; named for NOTIONAUTH_CA_FILE's roots.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            plugins: ["EmbedProviders"]
        ),
        // Login: the browser flows, the loopback callback listener and its pages.
        .target(
            name: "NotionAuthLogin",
            dependencies: [
                "NotionAuthCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // CLI: hand-rolled parsing, help, output, one file per command.
        .target(name: "NotionAuthCLI", dependencies: ["NotionAuthCore", "NotionAuthLogin"]),
        .executableTarget(name: "notionauth", dependencies: ["NotionAuthCLI", "NotionAuthCore"]),
        // MCP: the stdio server whose tools call Notion with a stored token, and the bridge to
        // Notion's hosted MCP. A room of its own, in an executable of its own that `notionauth mcp`
        // runs from beside itself: the SDK brings Foundation's networking and Swift concurrency,
        // which `get` and `export` must not pay for at start-up (README, "Speed").
        .target(
            name: "NotionAuthMCP",
            dependencies: [
                "NotionAuthCore",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "notionauth-mcp", dependencies: ["NotionAuthMCP", "NotionAuthPostgres", "NotionAuthCLI", "NotionAuthCore"]),
        // The PostgreSQL store: a room of its own, in an executable of its own that `notionauth`
        // runs in its place when the store is a postgres:// URL, so that `get` and `export`
        // against the file vault never load a database driver (CONTRIBUTING.md, "Adding a store").
        .target(
            name: "NotionAuthPostgres",
            dependencies: [
                "NotionAuthCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "notionauth-postgres", dependencies: ["NotionAuthPostgres", "NotionAuthCLI", "NotionAuthCore"]),
        // `run --proxy`: the loopback proxy that adds the token to the child's requests, with a
        // certificate authority made for the run. A room of its own, in an executable of its
        // own that `notionauth run --proxy` becomes (like notionauth-postgres), so that `get`
        // and `export` never load the certificate code.
        .target(
            name: "NotionAuthProxy",
            dependencies: [
                "NotionAuthCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "notionauth-proxy", dependencies: ["NotionAuthProxy", "NotionAuthPostgres", "NotionAuthCLI", "NotionAuthCore"]),
        // Fills a vault with N connections for scripts/bench.
        .executableTarget(name: "make-bench-vault", dependencies: ["NotionAuthCore"]),
        // Fake Notion and Notion MCP servers on loopback: the tests' peers, and the server
        // scripts/bench logs in against.
        .target(
            name: "NotionFakes",
            dependencies: [
                "NotionAuthCore",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // Its HTTPS certificates come from the CA code of `run --proxy`.
                "NotionAuthProxy",
            ],
            path: "Tests/NotionFakes"
        ),
        .executableTarget(name: "notionauth-fake-server", dependencies: ["NotionFakes"], path: "Tests/FakeServerMain"),
        .testTarget(
            name: "NotionAuthTests",
            dependencies: [
                "NotionAuthCore",
                "NotionAuthLogin",
                "NotionAuthCLI",
                "NotionFakes",
                "NotionAuthMCP",
                "NotionAuthPostgres",
                "NotionAuthProxy",
                "notionauth",
                "notionauth-mcp",
                "notionauth-postgres",
                "notionauth-proxy",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            exclude: ["Vectors"]
        ),
    ]
)

// libFuzzer targets, built only by scripts/fuzz (which sets NOTIONAUTH_FUZZ): the normal
// build and `swift test` never see them. The sanitizer flags are set here rather than with
// -Xswiftc so that the build tool embed-providers stays an ordinary executable.
if Context.environment["NOTIONAUTH_FUZZ"] != nil {
    let sanitize = ["-sanitize=fuzzer,address"]
    for target in package.targets where ["NotionAuthCore", "NotionAuthLogin", "NotionAuthCLI"].contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(sanitize)]
    }
    let extraDependencies: [String: [Target.Dependency]] = [
        "FuzzCallback": [.product(name: "NIOHTTP1", package: "swift-nio")],
    ]
    package.targets.append(.systemLibrary(name: "CLibFuzzer", path: "Tests/Fuzz/CLibFuzzer"))
    package.targets += ["FuzzVault", "FuzzProviders", "FuzzCallback", "FuzzQuoting"].map { name in
        .executableTarget(
            name: name,
            dependencies: ["NotionAuthCore", "NotionAuthLogin", "NotionAuthCLI", "CLibFuzzer"] + extraDependencies[name, default: []],
            path: "Tests/Fuzz/\(name)",
            swiftSettings: [.unsafeFlags(sanitize)],
            linkerSettings: [.unsafeFlags(sanitize)]
        )
    }
}
