import NotionAuthCore
/// The part of a browser login that a person sees: the listener on loopback, the URL on
/// stderr and in the browser, a countdown or the paste prompt, and the pages shown at the end.
public struct BrowserLogin {
    let broker: Broker
    let provider: ProviderDefinition
    let target: RedirectTarget
    let openBrowser: Bool
    let timeoutSeconds: Int
    /// `--quiet`: no countdown.
    let quiet: Bool
    /// Where the person may paste the address the browser was sent back to, for a browser
    /// that cannot reach this machine (over SSH, `--paste`); nil for the listener alone.
    let terminal: TerminalLines?

    public init(broker: Broker, provider: ProviderDefinition, target: RedirectTarget, openBrowser: Bool, timeoutSeconds: Int, quiet: Bool, terminal: TerminalLines? = nil) {
        self.broker = broker
        self.provider = provider
        self.target = target
        self.openBrowser = openBrowser
        self.timeoutSeconds = timeoutSeconds
        self.quiet = quiet
        self.terminal = terminal
    }

    /// Waits for the browser to come back with a code, or for its address pasted into the
    /// terminal, whichever is first, and exchanges the code. With no client yet, the listener
    /// first serves the credentials page at `/`, and nothing can be pasted: the page needs
    /// the listener.
    public func run(
        client initialClient: ClientCredentials?,
        authorizeURL: (ClientCredentials, _ state: String) -> String,
        exchange: (_ code: String, ClientCredentials) throws(NotionauthError) -> Connection
    ) throws(NotionauthError) -> (Connection, ClientCredentials) {
        let state = Base64URL.encode(Sodium.randomBytes(32))
        let inbox = CallbackInbox()
        let pasteTerminal = initialClient == nil ? nil : terminal
        let listener: CallbackListener?
        do {
            listener = try CallbackListener(
                host: target.bindHost, port: target.port, callbackPath: target.path, state: state,
                firstRunPage: initialClient != nil ? nil : { csrf in
                    Pages.clientCredentialsForm(provider: provider.displayName, redirectURI: target.uri, dashboardURL: provider.docsURL, csrfToken: csrf)
                },
                inbox: inbox)
        } catch {
            // The browser cannot come back by itself then, but a pasted address still can.
            guard pasteTerminal != nil else { throw error }
            broker.warn("cannot listen for the browser on \(target.urlHost):\(target.port) (another login waiting?); paste the address it is sent back to instead")
            listener = nil
        }
        defer { listener?.close() }

        var client = initialClient
        let startURL = client.map { authorizeURL($0, state) } ?? "http://\(target.urlHost):\(listener?.port ?? target.port)/"
        let stderr = broker.context.stderr
        // Always printed, on a line of its own, so it can be copied when no browser opens.
        stderr.write(client == nil
            ? "Open this page to enter the \(provider.displayName) client ID and secret:\n\(startURL)\n"
            : "Open this URL in a browser to log in to \(provider.displayName):\n\(startURL)\n")
        if openBrowser && BrowserOpener.mayOpen(environment: broker.context.environment) {
            if !broker.context.openBrowser(startURL) {
                broker.warn("could not open a browser; open the URL above yourself")
            }
        }

        let paste = pasteTerminal.map { PasteReader(terminal: $0, check: CallbackCheck(host: target.bindHost, port: target.port, path: target.path, state: state), inbox: inbox) }
        defer { paste?.stop() }
        // A countdown redrawn every second would overwrite what is being pasted: with the
        // prompt, the limit is stated once instead.
        let prompt = "Paste the address (waiting up to \(Self.clock(Int64(timeoutSeconds))), Ctrl-C to cancel): "
        var promptOpen = false
        if paste != nil {
            stderr.write(listener == nil
                ? "After you allow access, the browser is sent to \(target.uri)?code=…, which this login cannot receive itself: copy that address from the browser's address bar and paste it here.\n"
                : "After you allow access, the browser is sent to \(target.uri)?code=…; if it cannot load that page (it is on another machine), copy the address from its address bar and paste it here.\n")
            stderr.write(prompt)
            promptOpen = true
        }
        let showCountdown = broker.context.stderrIsTerminal && !quiet && paste == nil
        defer {
            if showCountdown { stderr.write("\r\u{1B}[K") }
            // Whatever is printed next starts on a line of its own, not after the prompt.
            if promptOpen { stderr.write("\n") }
        }

        func exchangeCode(_ code: String, respond: @Sendable (CallbackReply) -> Void) throws(NotionauthError) -> (Connection, ClientCredentials)? {
            guard let client else {
                respond(.page(status: 400, html: Pages.failure(provider: provider.displayName, message: "No client credentials were entered.")))
                return nil
            }
            do {
                let connection = try exchange(code, client)
                respond(.page(status: 200, html: Pages.success(provider: provider.displayName, workspace: connection.workspaceName, connection: connection.name)))
                return (connection, client)
            } catch {
                respond(.page(status: 400, html: Pages.failure(provider: provider.displayName, message: error.description)))
                throw error
            }
        }
        func refusal(code: String, description: String?, respond: @Sendable (CallbackReply) -> Void) -> NotionauthError {
            // Whoever can reach the listener (or the terminal) wrote these: one line, no
            // terminal controls.
            let text = TerminalText.sanitize(description.map { "\(code): \($0)" } ?? code)
            respond(.page(status: 400, html: Pages.failure(provider: provider.displayName, message: "\(provider.displayName) answered \(text).")))
            let reason = code == "access_denied" ? "the authorization was refused in the browser" : "\(provider.displayName) refused the login"
            return .authenticationFailed("\(reason) (\(text)); nothing was stored")
        }
        /// A pasted line that is not this login's answer: why, never what (it may hold a
        /// code or a token pasted by mistake), and the prompt again.
        func refusePasted(_ reason: String?) {
            if let reason { broker.warn(reason) }
            stderr.write(prompt)
            promptOpen = true
        }

        let deadline = broker.now + Int64(timeoutSeconds)
        while true {
            let left = deadline - broker.now
            guard left > 0 else {
                let unanswered = listener == nil ? "no address was pasted" : paste == nil ? "no answer from the browser" : "no answer from the browser or the terminal"
                throw .authenticationFailed("\(unanswered) within \(timeoutSeconds) s; run `notionauth login \(provider.name)` again (--timeout sets the limit)")
            }
            if showCountdown {
                stderr.write("\r\u{1B}[KWaiting for the browser… \(Self.clock(left)) left (Ctrl-C to cancel)")
            }
            guard let event = inbox.next(timeoutSeconds: Double(min(left, 1))) else { continue }
            switch event {
            case let .clientCredentials(id, secret, respond):
                let entered = ClientCredentials(provider: provider.name, clientID: id, clientSecret: secret)
                client = entered
                respond(.redirect(authorizeURL(entered, state)))
            case let .code(code, respond):
                if let done = try exchangeCode(code, respond: respond) { return done }
            case let .providerError(code, description, respond):
                throw refusal(code: code, description: description, respond: respond)
            case let .pasted(answer):
                promptOpen = false
                switch answer {
                case let .code(code)?:
                    if let done = try exchangeCode(code, respond: { _ in }) { return done }
                case let .providerError(code, description)?:
                    throw refusal(code: code, description: description, respond: { _ in })
                case .wrongState?:
                    refusePasted("that address is not from this login (its state does not match); paste the one the URL above led to")
                case .noCode?:
                    refusePasted("that address carries no authorization code; paste the one the browser is sent to after you allow access")
                case .notTheRedirectURI?:
                    refusePasted("that is not the address the browser is sent back to; paste the whole address, starting \(target.uri)?")
                case nil:
                    refusePasted(nil)
                }
            case .pasteEnded:
                // Ctrl-D at the prompt, as at any other: the person is done.
                throw .authenticationFailed("no address was pasted (end of input on the terminal); nothing was stored")
            }
        }
    }

    /// `m:ss`, for the countdown and the paste prompt.
    static func clock(_ seconds: Int64) -> String {
        "\(seconds / 60):\(String(seconds % 60).leftPadded(to: 2))"
    }
}
