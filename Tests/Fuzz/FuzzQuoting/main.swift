// libFuzzer target: every value `notionauth export` prints reads back byte for byte in the
// format's consumer, modelled here by a small decoder per format. The input is the value
// (valid UTF-8 only). Strings are compared as UTF-8 bytes: Swift's `==` on String treats
// canonically equivalent text as equal, and a shell does not.
import CLibFuzzer
import Foundation
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

func fail(_ what: String, _ value: String, _ output: String?) -> Never {
    fatalError("\(what)\n  value:  \(value.debugDescription) \(Array(value.utf8))\n  output: \(output.debugDescription)")
}

/// A word made only of POSIX single-quoted strings and `\'`, as sh reads it; nil otherwise.
func decodePOSIXWord(_ word: ArraySlice<UInt8>) -> [UInt8]? {
    var out: [UInt8] = []
    var i = word.startIndex
    while i < word.endIndex {
        switch word[i] {
        case UInt8(ascii: "'"):
            guard let close = word[(i + 1)...].firstIndex(of: UInt8(ascii: "'")) else { return nil }
            out += word[(i + 1)..<close]
            i = close + 1
        case UInt8(ascii: "\\"):
            guard i + 1 < word.endIndex, word[i + 1] == UInt8(ascii: "'") else { return nil }
            out.append(UInt8(ascii: "'"))
            i += 2
        default:
            return nil
        }
    }
    return out
}

/// A word made only of fish single-quoted strings, where `\\` and `\'` are the only escapes.
func decodeFishWord(_ word: ArraySlice<UInt8>) -> [UInt8]? {
    var out: [UInt8] = []
    var i = word.startIndex
    while i < word.endIndex {
        guard word[i] == UInt8(ascii: "'") else { return nil }
        i += 1
        while true {
            guard i < word.endIndex else { return nil }
            let byte = word[i]
            if byte == UInt8(ascii: "'") { i += 1; break }
            if byte == UInt8(ascii: "\\"), i + 1 < word.endIndex, word[i + 1] == UInt8(ascii: "\\") || word[i + 1] == UInt8(ascii: "'") {
                out.append(word[i + 1])
                i += 2
            } else {
                out.append(byte)
                i += 1
            }
        }
    }
    return out
}

/// `text` split at every byte that `isBreak`, as a runner reading lines does.
func lines(_ text: [UInt8], breakingAt isBreak: (UInt8) -> Bool) -> [ArraySlice<UInt8>] {
    text.split(omittingEmptySubsequences: false, whereSeparator: isBreak)
}

/// Undoes workflow-command data escaping (%25, %0D, %0A), as the Actions runner does.
func workflowUnescape(_ text: ArraySlice<UInt8>) -> [UInt8] {
    var out: [UInt8] = []
    var i = text.startIndex
    while i < text.endIndex {
        let rest = text[i...]
        if rest.starts(with: Array("%25".utf8)) { out.append(UInt8(ascii: "%")); i += 3 }
        else if rest.starts(with: Array("%0D".utf8)) { out.append(13); i += 3 }
        else if rest.starts(with: Array("%0A".utf8)) { out.append(10); i += 3 }
        else { out.append(text[i]); i += 1 }
    }
    return out
}

/// The value of `V` in a $GITHUB_ENV file holding one `V<<DELIMITER` block, read line by
/// line (lines end at "\n") until a line equal to the delimiter; nil if the file is not
/// exactly that block.
func decodeGitHubEnv(_ file: [UInt8], delimiter: String) -> [UInt8]? {
    var fileLines = lines(file, breakingAt: { $0 == 10 })
    guard fileLines.last?.isEmpty == true, Array(fileLines.removeFirst()) == Array("V<<\(delimiter)".utf8) else { return nil }
    fileLines.removeLast()
    guard let end = fileLines.firstIndex(where: { Array($0) == Array(delimiter.utf8) }), end == fileLines.count - 1 else { return nil }
    return Array(fileLines[..<end].joined(separator: [10]))
}

func check(_ value: String, as format: ExportFormat) {
    let bytes = Array(value.utf8)
    let output: String
    do {
        output = try ExportFormatter.format([("V", value)], as: format)
    } catch {
        let representable = !bytes.contains(0) && (format != .dotenv || !bytes.contains(10) && !bytes.contains(13))
        if representable, format != .githubActions { fail("\(format) refused a value it can carry: \(error)", value, nil) }
        return
    }
    if bytes.contains(0) { fail("\(format) printed a value with a NUL byte", value, output) }
    let text = Array(output.utf8)
    switch format {
    case .env:
        let prefix = Array("export V=".utf8)
        guard text.starts(with: prefix), text.last == 10,
              decodePOSIXWord(text[prefix.count..<(text.count - 1)]) == bytes
        else { fail("env output does not read back in sh", value, output) }
    case .fish:
        let prefix = Array("set -gx V ".utf8)
        guard text.starts(with: prefix), text.last == 10,
              decodeFishWord(text[prefix.count..<(text.count - 1)]) == bytes
        else { fail("fish output does not read back in fish", value, output) }
    case .dotenv:
        if bytes.contains(10) || bytes.contains(13) { fail("dotenv printed a value with a line break", value, output) }
        guard text == Array("V=".utf8) + bytes + [10] else { fail("dotenv output is not V=value", value, output) }
    case .json:
        guard text.last == 10, case let .object(object)? = try? JSONValue.parse(text), object.count == 1,
              case let .string(decoded)? = object["V"], Array(decoded.utf8) == bytes
        else { fail("json output does not parse back to the value", value, output) }
    case .githubActions:
        // The command writes the same masks with its own random delimiter (checkGitHubActions).
        guard let direct = try? ExportFormatter.githubActions([("V", value)], delimiter: "EOF"), direct.masks == output else {
            fail("github-actions format differs from the masks githubActions writes", value, output)
        }
    }
}

/// `export --format github-actions`: `::add-mask::` commands for stdout, one per non-empty
/// line of the value so the runner hides every line it may print, and a `V<<DELIMITER`
/// block for $GITHUB_ENV that reads back, or an error when the value cannot be carried.
func checkGitHubActions(_ value: String) {
    let bytes = Array(value.utf8)
    let delimiter = "EOF"
    let masks: String, envFile: String
    do {
        (masks, envFile) = try ExportFormatter.githubActions([("V", value)], delimiter: delimiter)
    } catch {
        if !bytes.contains(0), !lines(bytes, breakingAt: { $0 == 10 }).contains(where: { Array($0) == Array(delimiter.utf8) }) {
            fail("github-actions refused a value it can carry: \(error)", value, nil)
        }
        return
    }
    if bytes.contains(0) { fail("github-actions wrote a value with a NUL byte to $GITHUB_ENV", value, envFile) }
    if decodeGitHubEnv(Array(envFile.utf8), delimiter: delimiter) != bytes {
        fail("github-actions env file does not read back", value, envFile)
    }
    let text = Array(masks.utf8)
    let command = Array("::add-mask::".utf8)
    if !text.isEmpty, text.last != 10 { fail("github-actions masks do not end with a line break", value, masks) }
    var masked = Set<[UInt8]>()
    for line in lines(text, breakingAt: { $0 == 10 }).dropLast() {
        guard line.starts(with: command) else { fail("github-actions printed a line that is not a mask", value, masks) }
        masked.insert(workflowUnescape(line.dropFirst(command.count)))
    }
    let expected = Set(lines(bytes, breakingAt: { $0 == 10 || $0 == 13 }).filter { !$0.isEmpty }.map(Array.init))
    if masked != expected { fail("github-actions masks are not the value's lines", value, masks) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let value = String(validating: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self) else { return 0 }
    for format in ExportFormat.allCases { check(value, as: format) }
    checkGitHubActions(value)
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(UnsafeRawPointer(data!), size) })
