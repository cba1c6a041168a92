import Foundation
import Testing
@testable import NotionAuthCore

/// How NOTIONAUTH_KEY_COMMAND and `vault key-command` read a command line (no shell), and how
/// a helper process is run: bounded output, a deadline, never waiting on a pipe a daemon holds.
@Suite struct KeyCommandTests {
    func words(_ text: String) throws -> [String] {
        try KeyCommand(parsing: text).words
    }

    func refusal(_ text: String) -> String? {
        do {
            _ = try KeyCommand(parsing: text)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test func wordsSplitAtBlanksAndQuotesWorkAsInSh() throws {
        #expect(try words("op read op://Private/notionauth/key") == ["op", "read", "op://Private/notionauth/key"])
        #expect(try words("  pass\tshow \n notionauth/key ") == ["pass", "show", "notionauth/key"])
        #expect(try words(#"sh -c 'printf %s "$KEY"'"#) == ["sh", "-c", #"printf %s "$KEY""#])
        #expect(try words(#"a"b c"d 'e f'g "" ''"#) == ["ab cd", "e fg", "", ""])
        #expect(try words(#"a\ b "x\"y\\z\q""#) == ["a b", #"x"y\z\q"#])
        #expect(try words("secret-tool lookup vault '/home/ann/My Vault'") == ["secret-tool", "lookup", "vault", "/home/ann/My Vault"])
        // No expansion: globs and braces are passed as they are, as sh passes an unmatched glob.
        #expect(try words("op read op://v/i/f?attribute=otp {a,b} x*") == ["op", "read", "op://v/i/f?attribute=otp", "{a,b}", "x*"])
    }

    @Test func whatAShellWouldInterpretIsRefusedNotPassedOn() {
        for text in ["pass show x | head -1", "a; b", "a && b", "a > f", "a < f", "$(cat f)", "`cat f`", "echo $HOME", #"echo "$HOME""#, "(a)", "~/bin/key", "key # comment"] {
            #expect(refusal(text) != nil, "\(text)")
        }
        #expect(refusal("pass show x | head -1")?.contains("sh -c") == true)
        // Quoted, they are plain characters.
        #expect(refusal(#"sh -c 'pass show x | head -1'"#) == nil)
        #expect(refusal(#"echo '$HOME' \$HOME "\$HOME" a~b a#b"#) == nil)
    }

    @Test func anEmptyOrUnfinishedCommandIsRefused() {
        #expect(refusal("") == "it is empty")
        #expect(refusal("   \n") == "it is empty")
        #expect(refusal("'' x") == "its program is an empty word")
        #expect(refusal("echo 'abc") == "a single quote is not closed")
        #expect(refusal(#"echo "abc"#) == "a double quote is not closed")
        #expect(refusal(#"echo abc\"#) == "it ends with a backslash")
    }

    @Test func theTextOfACommandReadsBackAsTheSameWords() throws {
        let samples: [[String]] = [
            ["secret-tool", "lookup", "service", "notionauth", "vault", "/home/ann/.config/notionauth/vault"],
            ["sh", "-c", "printf '%s' \"$(pass show x)\" | tr -d '\\n'"],
            ["a b", "", "it's", "~home", "#hash", "tab\there", "new\nline", "ünïcode", "$x", "`y`", "a\\b"],
        ]
        for sample in samples {
            #expect(try KeyCommand(parsing: KeyCommand(words: sample).text).words == sample)
        }
        #expect(KeyCommand(words: ["pass", "show", "notionauth/key"]).text == "pass show notionauth/key")
        #expect(KeyCommand(words: ["sh", "-c", "it's"]).text == #"sh -c 'it'\''s'"#)
        for _ in 0..<200 {
            let alphabet = Array("ab '\"\\$`|;&<>()~#*?\n\t=/-_.é")
            let sample = (0..<Int.random(in: 1...5)).map { _ in String((0..<Int.random(in: 0...8)).map { _ in alphabet.randomElement()! }) }
            guard !sample[0].isEmpty else { continue }
            #expect(try KeyCommand(parsing: KeyCommand(words: sample).text).words == sample, "\(sample)")
        }
    }

    @Test func aHelperThatNeverEndsIsStoppedAtTheDeadlineWithItsChildren() throws {
        let started = Date()
        // Its own process group: the background sleep goes with it.
        let pidFile = NSTemporaryDirectory() + "notionauth-helper-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        let finished = try HelperProcess.run(["sh", "-c", "sleep 60 & echo $! > \(pidFile); wait"], environment: ["PATH": "/usr/bin:/bin"], input: .none, timeout: 0.5, outputLimit: 100)
        #expect(finished.ending == .timedOut)
        #expect(Date().timeIntervalSince(started) < 5)
        if !HelperProcess.hasControllingTerminal() {
            let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(Processes.ends(pid), "the helper's own child is still running")
        }
    }

    @Test func aHelperThatLeavesADaemonHoldingItsOutputIsNotWaitedFor() throws {
        let started = Date()
        let pidFile = NSTemporaryDirectory() + "notionauth-helper-\(UUID().uuidString)"
        defer {
            if let pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: pidFile)
        }
        let finished = try HelperProcess.run(["sh", "-c", "printf out; sleep 30 & echo $! > \(pidFile)"], environment: ["PATH": "/usr/bin:/bin"], input: .none, timeout: 20, outputLimit: 100)
        #expect(finished.ending == .exited(0))
        #expect(finished.output == Array("out".utf8))
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func aHelperThatPrintsWithoutEndIsStoppedAtTheLimit() throws {
        let finished = try HelperProcess.run(["yes"], environment: ["PATH": "/usr/bin:/bin"], input: .none, timeout: 20, outputLimit: 4096)
        #expect(finished.ending == .tooMuchOutput)
        #expect(finished.output.count == 4096)
    }

    @Test func aHelperGetsItsInputOnAPipeAndNullOtherwise() throws {
        let fed = try HelperProcess.run(["cat"], environment: ["PATH": "/usr/bin:/bin"], input: .bytes(Array("secret".utf8)), timeout: 10, outputLimit: 100)
        #expect(fed.ending == .exited(0) && fed.output == Array("secret".utf8))
        let none = try HelperProcess.run(["cat"], environment: ["PATH": "/usr/bin:/bin"], input: .none, timeout: 10, outputLimit: 100)
        #expect(none.ending == .exited(0) && none.output.isEmpty)
        let status = try HelperProcess.run(["sh", "-c", "exit 3"], environment: ["PATH": "/usr/bin:/bin"], input: .none, timeout: 10, outputLimit: 100)
        #expect(status.ending == .exited(3))
        #expect(throws: HelperProcess.Failure.self) {
            try HelperProcess.run(["no-such-helper-anywhere"], environment: ["PATH": "/usr/bin:/bin"], input: .none, timeout: 10, outputLimit: 100)
        }
    }
}
