import NotionAuthCLI
import NotionAuthCore
import NotionAuthMCP
import NotionAuthPostgres

#if canImport(Glibc)
import Glibc
#endif

// Usage: notionauth-mcp mcp [PROVIDER] [--connection NAME]… [--read-only] — what
// `notionauth mcp` runs; parsed by the same spec, so both accept exactly the same words.
let arguments = Array(CommandLine.arguments.dropFirst())
ProcessHardening.apply(arguments: arguments)
// A client that goes away closes our standard output: that is an error to handle, not a signal to die of.
signal(SIGPIPE, SIG_IGN)

var context = Context.process()
// A long-lived server: linking the PostgreSQL store here costs nothing that matters, and
// an exec to notionauth-postgres could not serve it.
context.storeOpeners = PostgresStore.openers
let status: Int32
do throws(NotionauthError) {
    let invocation = try ArgumentParser.parse(arguments)
    guard let command = invocation.command as? MCPCommand else {
        // `--help`, `--version` and the like: notionauth's own answers.
        exit(Runner.run(arguments, context: context))
    }
    let session = Session(context: context, global: invocation.global)
    let options = command.options
    let provider = try session.provider(options.provider).definition
    let allowedConnections = try options.allowedConnections(broker: session.broker, provider: provider.name)
    if provider.flows.contains(.dynamicRegistration) {
        guard options.connections.count <= 1 else {
            throw .usage("the bridge to \(provider.displayName) serves one connection; give --connection once", command: MCPCommand.spec.name)
        }
        status = await NotionMCPBridge.run(broker: session.broker, provider: provider, connection: allowedConnections[0])
    } else {
        status = await NotionToolServer.run(
            broker: session.broker, provider: provider, connections: allowedConnections, readOnly: options.readOnly)
    }
} catch {
    Runner.report(error, context: context, arguments: arguments)
    status = error.exitStatus.rawValue
}
exit(status)
