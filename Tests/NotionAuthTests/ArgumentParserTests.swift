import Testing
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

@Suite struct ArgumentParserTests {
    @Test func parsesCommandPositionalAndOptionWithSeparateValue() throws {
        let invocation = try ArgumentParser.parse(["get", "notion", "--connection", "work", "--field", "status"])
        var expected = GetOptions(provider: "notion")
        expected.connection = "work"
        expected.field = "status"
        #expect((invocation.command as? GetCommand)?.options == expected)
    }

    @Test func aRepeatedOptionKeepsEveryValueInOrderOnce() throws {
        let invocation = try ArgumentParser.parse(["mcp", "--connection", "work", "-c", "home", "--connection=work", "--read-only"])
        let options = try #require((invocation.command as? MCPCommand)?.options)
        #expect(options.connections == ["work", "home"])
        #expect(options.readOnly)
        #expect(try ArgumentParser.parse(["mcp"]).command is MCPCommand)
        #expect((try ArgumentParser.parse(["mcp"]).command as? MCPCommand)?.options.connections == [])
        #expect(throws: NotionauthError.self) { try ArgumentParser.parse(["mcp", "-c", "ok", "-c", "not ok"]) }
    }

    @Test func acceptsEqualsFormAndShortOptions() throws {
        let a = try ArgumentParser.parse(["get", "notion", "--connection=work"])
        let b = try ArgumentParser.parse(["get", "-c", "work", "notion"])
        let c = try ArgumentParser.parse(["get", "-cwork", "notion"])
        #expect((a.command as? GetCommand)?.options == (b.command as? GetCommand)?.options)
        #expect((b.command as? GetCommand)?.options == (c.command as? GetCommand)?.options)
        #expect((c.command as? GetCommand)?.options.connection == "work")
    }

    @Test func globalOptionsWorkBeforeAndAfterTheCommand() throws {
        let before = try ArgumentParser.parse(["--vault", "/tmp/v", "--json", "list"])
        let after = try ArgumentParser.parse(["list", "--vault=/tmp/v", "--json"])
        #expect(before.global == after.global)
        #expect(before.command is ListCommand && after.command is ListCommand)
        #expect(before.global.vault == "/tmp/v")
        #expect(before.global.json)
    }

    @Test func doubleDashEndsOptions() throws {
        let invocation = try ArgumentParser.parse(["inspect", "--", "-weird"])
        #expect((invocation.command as? InspectCommand)?.provider == "-weird")
    }

    @Test func unknownOptionSuggestsTheNearMiss() {
        #expect(throws: NotionauthError.usage("unknown option '--conection'; did you mean --connection?", command: "get")) {
            try ArgumentParser.parse(["get", "notion", "--conection", "work"])
        }
    }

    @Test func unknownCommandSuggestsTheNearMiss() {
        #expect(throws: NotionauthError.usage("unknown command 'exprot'; did you mean 'export'?", command: nil)) {
            try ArgumentParser.parse(["exprot"])
        }
    }

    @Test func missingValueIsAUsageError() {
        #expect(throws: NotionauthError.usage("--connection needs a value (NAME)", command: "get")) {
            try ArgumentParser.parse(["get", "notion", "--connection"])
        }
        #expect(throws: NotionauthError.usage("--field needs a value (FIELD)", command: "get")) {
            try ArgumentParser.parse(["get", "notion", "--field", "--json"])
        }
    }

    @Test func flagsRejectValues() {
        #expect(throws: NotionauthError.usage("--force takes no value", command: "login")) {
            try ArgumentParser.parse(["login", "notion", "--force=yes"])
        }
    }

    @Test func missingAndExtraPositionalsAreUsageErrors() {
        #expect(throws: NotionauthError.usage("get needs PROVIDER", command: "get")) {
            try ArgumentParser.parse(["get"])
        }
        #expect(throws: NotionauthError.usage("unexpected argument 'extra'", command: "get")) {
            try ArgumentParser.parse(["get", "notion", "extra"])
        }
    }

    @Test func dashHAndHelpOnEveryCommandAskForItsHelp() throws {
        for spec in CommandSpec.all {
            #expect((try ArgumentParser.parse([spec.name, "--help"]).command as? HelpCommand)?.topic == spec.name)
            #expect((try ArgumentParser.parse([spec.name, "-h"]).command as? HelpCommand)?.topic == spec.name)
        }
        let bare = try ArgumentParser.parse([]).command as? HelpCommand
        #expect(bare != nil && bare?.topic == nil)
        #expect(try ArgumentParser.parse(["--version"]).command is VersionCommand)
    }

    @Test func invalidConnectionNamesAreRefused() {
        for bad in ["../x", "a b", "", String(repeating: "x", count: 65), ".hidden"] {
            #expect(throws: NotionauthError.self) { try ArgumentParser.parse(["get", "notion", "--connection", bad]) }
        }
    }

    @Test func exportFormatIsValidated() throws {
        #expect(throws: NotionauthError.usage("unknown format 'dotnev'; formats: env, dotenv, json, fish, github-actions; did you mean 'dotenv'?", command: "export")) {
            try ArgumentParser.parse(["export", "--format", "dotnev"])
        }
        var expected = ExportOptions(provider: nil)
        expected.format = .json
        #expect((try ArgumentParser.parse(["export", "--format=json"]).command as? ExportCommand)?.options == expected)
    }

    @Test func noVerifyRequiresWithToken() {
        #expect(throws: NotionauthError.usage("--no-verify goes with --with-token", command: "login")) {
            try ArgumentParser.parse(["login", "notion", "--no-verify"])
        }
    }

    @Test func aCommandCanReadOnlyTheOptionsItsSpecDeclares() throws {
        // Every command's own options are declared in its spec: reading them works…
        for type in Runner.commands {
            #expect(Set(type.spec.options.map(\.name)).count == type.spec.options.count, "\(type.spec.name) declares an option twice")
        }
        let parsed = ParsedArguments(spec: GetCommand.spec)
        #expect(parsed.value(GetCommand.field) == nil)
        #expect(parsed.value(CommandSpec.vault) == nil)
        // …and the list of commands is the one help, parsing and completion read.
        #expect(CommandSpec.all.map(\.name) == ["login", "get", "export", "inspect", "list", "status", "use", "logout", "run", "api", "mcp", "vault", "store", "completion", "help", "version"])
        #expect(Runner.command(named: "__complete") != nil)
        #expect(!CommandSpec.all.contains { $0.name == "__complete" })
    }
}
