/// Small text helpers every room uses; here so that no room reaches into another for them.
extension String {
    /// Without leading and trailing white space (what a person pasted or typed).
    public func trimmingWhitespace() -> String {
        var slice = self[...]
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }

    /// Zeros in front up to `width` characters: `"7".leftPadded(to: 2)` is `"07"`.
    public func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }

    /// Spaces after up to `width` characters, for columns.
    public func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
