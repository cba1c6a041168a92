/// `notionauth completion bash|zsh|fish` and the hidden `__complete` the scripts call.
enum CompletionCommand {
    static func script(for shell: String, session: Session) throws(NotionauthError) -> ExitStatus {
        throw .failure("completion is not written yet")
    }

    static func complete(_ words: [String], session: Session) throws(NotionauthError) -> ExitStatus {
        throw .failure("completion is not written yet")
    }
}
