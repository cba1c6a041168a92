import Foundation
import Testing

/// The Python that scripts/test prepares in .venv/ with the `mcp` SDK: the tests' independent
/// MCP client and upstream server. A missing interpreter fails the test that needs it.
enum Python {
    static let interpreter: String = {
        if let given = ProcessInfo.processInfo.environment["NOTIONAUTH_TEST_PYTHON"], !given.isEmpty { return given }
        return Binary.repositoryRoot + "/.venv/bin/python"
    }()

    /// A script under Tests/Python.
    static func script(_ name: String) -> String {
        Binary.repositoryRoot + "/Tests/Python/" + name
    }

    static func requireInterpreter() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: interpreter),
            "no Python with the mcp SDK at \(interpreter): run the tests through scripts/test, which makes .venv/")
    }
}
