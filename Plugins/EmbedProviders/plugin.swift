import Foundation
import PackagePlugin

/// Compiles every `providers/*.json` into the library as Swift string literals, so an
/// installed binary carries its definitions and the JSON files stay the one source of truth.
@main
struct EmbedProviders: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let providersDir = context.package.directoryURL.appending(path: "providers")
        let files = try FileManager.default.contentsOfDirectory(atPath: providersDir.path())
            .filter { $0.hasSuffix(".json") }
            .sorted()
            .map { providersDir.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "BundledProviders.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) provider definitions",
                executable: try context.tool(named: "embed-providers").url,
                arguments: [output.path()] + files.map { $0.path() },
                inputFiles: files,
                outputFiles: [output]
            ),
        ]
    }
}
