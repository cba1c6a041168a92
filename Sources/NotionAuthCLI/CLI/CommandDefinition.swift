import NotionAuthCore

/// A command owns itself: its spec (name, options and their help), how the parsed command
/// line becomes its value, and what it does. Help, parsing, completion and the man-page
/// check all read the specs; `Runner.commands` lists the command types.
public protocol CommandDefinition: Sendable {
    static var spec: CommandSpec { get }
    /// Reads the options `spec` declares (no other can be read) and checks them.
    init(_ arguments: ParsedArguments) throws(NotionauthError)
    func run(session: Session) throws(NotionauthError) -> ExitStatus
}
