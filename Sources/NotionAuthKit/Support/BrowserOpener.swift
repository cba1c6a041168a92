/// Opens URLs in the user's browser (used by browser login).
enum BrowserOpener {
    static func open(_ url: String) -> Bool { false }
}
