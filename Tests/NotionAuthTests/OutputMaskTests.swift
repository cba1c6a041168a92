import Testing
@testable import NotionAuthCLI

/// `run --mask`'s masker on its own: every secret becomes `****` however the stream is cut,
/// and every other byte passes as it came.
@Suite struct OutputMaskTests {
    static let token = Array("ntn_mask_0123456789abcdefghij".utf8)

    /// Feeds the pieces one after the other, then ends the stream; returns all it let out.
    static func masked(_ pieces: [[UInt8]], secrets: [[UInt8]] = [token]) -> [UInt8] {
        var mask = OutputMask(secrets: secrets)
        var output: [UInt8] = []
        for piece in pieces { output += mask.feed(piece) }
        return output + mask.finish()
    }

    static func masked(_ text: String, secrets: [String]) -> String {
        String(decoding: masked([Array(text.utf8)], secrets: secrets.map { Array($0.utf8) }), as: UTF8.self)
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        haystack.count >= needle.count && (0...(haystack.count - needle.count)).contains { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
    }

    @Test func aWholeTokenBecomesFourStars() {
        #expect(Self.masked([Array("token=".utf8) + Self.token + Array("\n".utf8)]) == Array("token=****\n".utf8))
    }

    @Test func aTokenFedOneByteAtATimeIsStillMasked() {
        let text = Array("a ".utf8) + Self.token + Array(" b".utf8)
        #expect(Self.masked(text.map { [$0] }) == Array("a **** b".utf8))
    }

    @Test func aTokenSplitAcrossLinesIsMasked() {
        let half = Self.token.count / 2
        let pieces = [Array("line one\nsecret: ".utf8) + Self.token[..<half], Array(Self.token[half...]) + Array("\nline three\n".utf8)]
        #expect(Self.masked(pieces) == Array("line one\nsecret: ****\nline three\n".utf8))
    }

    @Test func aTokenInsideBinaryBytesIsMaskedAndTheBytesAroundItAreUnchanged() {
        var generator = SystemRandomNumberGenerator()
        let before = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let after: [UInt8] = [0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x00]
        let stream = before + Self.token + after
        // Cut at arbitrary places, one of them inside the token.
        let cuts = [0, 1000, 4096 + 5, 4096 + 20, stream.count]
        let pieces = zip(cuts, cuts.dropFirst()).map { Array(stream[$0..<$1]) }
        #expect(Self.masked(pieces) == before + OutputMask.replacement + after)
    }

    @Test func everySecretIsMasked() {
        #expect(Self.masked("a=ntn_first_secret_value b=ntn_second_secret_value", secrets: ["ntn_first_secret_value", "ntn_second_secret_value"]) == "a=**** b=****")
    }

    @Test func adjacentOccurrencesAreEachMasked() {
        let token = String(decoding: Self.token, as: UTF8.self)
        #expect(Self.masked(token + token + "|" + token, secrets: [token]) == "********|****")
    }

    @Test func overlappingOccurrencesAreMaskedFromTheLeftAndTheTokenNeverAppears() {
        #expect(Self.masked("abababab!ababab", secrets: ["ababab"]) == "****ab!****")
    }

    @Test func theLongestSecretAtAPositionWins() {
        let secrets = ["secret_short", "secret_short_and_long"]
        #expect(Self.masked("x secret_short_and_long y secret_short z", secrets: secrets) == "x **** y **** z")
        // Also when the longer one arrives in pieces after the shorter one has matched.
        let pieces = ["x secret_short", "_and", "_long y"].map { Array($0.utf8) }
        #expect(Self.masked(pieces, secrets: secrets.map { Array($0.utf8) }) == Array("x **** y".utf8))
    }

    @Test func aTokenPrefixThatNeverCompletesIsWrittenUnchangedAtTheEnd() {
        let prefix = Array(Self.token.dropLast())
        #expect(Self.masked([Array("ends with ".utf8), prefix]) == Array("ends with ".utf8) + prefix)
        #expect(Self.masked([Array("ntn_".utf8), Array("other".utf8)]) == Array("ntn_other".utf8))
    }

    /// A prompt is not held back: only a tail that could begin a secret waits.
    @Test func outputThatCannotBeginASecretIsLetThroughAtOnce() {
        var mask = OutputMask(secrets: [Self.token])
        #expect(mask.feed(Array("Continue? [y/N] ".utf8)) == Array("Continue? [y/N] ".utf8))
        #expect(mask.feed(Array("id: ntn_".utf8)) == Array("id: ".utf8))
        #expect(mask.feed(Array("x".utf8)) == Array("ntn_x".utf8))
        #expect(mask.finish().isEmpty)
    }

    @Test func textWithoutSecretsPassesByteForByte() {
        let text = Array("plain text, ünïcödé, \u{0}\u{1}, ntn_ and ntn_mask_ almost\r\n".utf8) + [0xff, 0xfe, 0x00]
        for size in [1, 3, 7, text.count] {
            let pieces = stride(from: 0, to: text.count, by: size).map { Array(text[$0..<min($0 + size, text.count)]) }
            #expect(Self.masked(pieces) == text, "in pieces of \(size)")
        }
    }

    @Test func secretsTooShortToMaskAndRepeatsAreIgnored() {
        let mask = OutputMask(secrets: [[], Array("abc".utf8), Self.token, Self.token])
        #expect(mask.secrets == [Self.token])
        #expect(OutputMask(secrets: [Array("abc".utf8)]).isEmpty)
        #expect(Self.masked("abc abcd", secrets: ["abc"]) == "abc abcd")
    }

    @Test func theTokenNeverAppearsWhateverTheCuts() {
        let stream = Array("<".utf8) + Self.token + Self.token + Array("--".utf8) + Self.token + Array(">".utf8)
        for first in 0..<stream.count {
            let second = min(stream.count, first + 7)
            let output = Self.masked([Array(stream[..<first]), Array(stream[first..<second]), Array(stream[second...])])
            #expect(output == Array("<********--****>".utf8), "cut at \(first) and \(second)")
            #expect(!Self.contains(output, Self.token))
        }
    }
}
