import Dispatch
import NotionAuthCore

/// Core's token refresh and API client block (they serve the synchronous commands); the MCP
/// server and the bridge run them here, off Swift's cooperative pool, so that a slow request,
/// a refresh waiting for the store's lock or a 429 wait holds up nothing else.
enum Blocking {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws(NotionauthError) -> T) async throws(NotionauthError) -> T {
        let result: Result<T, NotionauthError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do throws(NotionauthError) {
                    continuation.resume(returning: .success(try work()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}
