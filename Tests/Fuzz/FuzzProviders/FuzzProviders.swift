// libFuzzer target: any bytes given as a provider definition file load or fail with an
// error, never a crash. Seeded by scripts/fuzz with providers/*.json.
@testable import NotionAuthKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    _ = try? ProviderLoader.load(bytes, file: "fuzz.json", expectedName: nil)
    return 0
}
