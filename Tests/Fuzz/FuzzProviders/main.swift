// libFuzzer target: any bytes given as a provider definition file load or fail with an
// error, never crash. scripts/fuzz seeds it with providers/*.json.
import CLibFuzzer
import Foundation
@testable import NotionAuthCore
@testable import NotionAuthLogin
@testable import NotionAuthCLI

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    _ = try? ProviderLoader.load(bytes, file: "fuzz.json", expectedName: nil)
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(UnsafeRawPointer(data!), size) })
