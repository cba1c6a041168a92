import Dispatch
import Foundation
import NotionAuthCore

/// The terminal's side of a login, beside the listener: for a browser that cannot reach
/// this machine, the person pastes the address it was sent back to. Reads lines on a thread
/// of its own and hands each to the flow checked as the listener checks a callback, so the
/// flow takes whichever valid answer comes first.
final class PasteReader: Sendable {
    private let terminal: TerminalLines
    private let finished = DispatchSemaphore(value: 0)

    init(terminal: TerminalLines, check: CallbackCheck, inbox: CallbackInbox) {
        self.terminal = terminal
        let finished = finished
        Thread.detachNewThread {
            while var line = terminal.next() {
                inbox.deliver(.pasted(check.answer(pasted: line)))
                for i in line.indices { line[i] = 0 }
            }
            inbox.deliver(.pasteEnded)
            finished.signal()
        }
    }

    /// Stops reading, waits for the thread to end, and throws away what was typed but not
    /// read: it was meant for this prompt, not for the shell that reads the terminal next.
    func stop() {
        terminal.cancel()
        finished.wait()
        terminal.discardUnread()
    }
}
