import NotionAuthCore
/// The part of a browser login that a person sees: the listener on loopback, the URL on
/// stderr and in the browser, a countdown, and the pages shown at the end.
public struct BrowserLogin {
    let broker: Broker
    let provider: ProviderDefinition
    let target: RedirectTarget
    let openBrowser: Bool
    let timeoutSeconds: Int
    /// `--quiet`: no countdown.
    let quiet: Bool

    public init(broker: Broker, provider: ProviderDefinition, target: RedirectTarget, openBrowser: Bool, timeoutSeconds: Int, quiet: Bool) {
        self.broker = broker
        self.provider = provider
        self.target = target
        self.openBrowser = openBrowser
        self.timeoutSeconds = timeoutSeconds
        self.quiet = quiet
    }

    /// Waits for the browser to come back with a code and exchanges it. With no client
    /// yet, the listener first serves the credentials page at `/`.
    public func run(
        client initialClient: ClientCredentials?,
        authorizeURL: (ClientCredentials, _ state: String) -> String,
        exchange: (_ code: String, ClientCredentials) throws(NotionauthError) -> Connection
    ) throws(NotionauthError) -> (Connection, ClientCredentials) {
        let state = Base64URL.encode(Sodium.randomBytes(32))
        let listener = try CallbackListener(
            host: target.bindHost, port: target.port, callbackPath: target.path, state: state,
            firstRunPage: initialClient != nil ? nil : { csrf in
                Pages.clientCredentialsForm(provider: provider.displayName, redirectURI: target.uri, dashboardURL: provider.docsURL, csrfToken: csrf)
            })
        defer { listener.close() }

        var client = initialClient
        let startURL = client.map { authorizeURL($0, state) } ?? "http://\(target.bindHost == "::1" ? "[::1]" : "127.0.0.1"):\(listener.port)/"
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

        let showCountdown = broker.context.stderrIsTerminal && !quiet
        defer { if showCountdown { stderr.write("\r\u{1B}[K") } }
        let deadline = broker.now + Int64(timeoutSeconds)
        while true {
            let left = deadline - broker.now
            guard left > 0 else {
                throw .authenticationFailed("no answer from the browser within \(timeoutSeconds) s; run `notionauth login \(provider.name)` again (--timeout sets the limit)")
            }
            if showCountdown {
                stderr.write("\r\u{1B}[KWaiting for the browser… \(left / 60):\(String(left % 60).leftPadded(to: 2)) left (Ctrl-C to cancel)")
            }
            guard let event = listener.next(timeoutSeconds: Double(min(left, 1))) else { continue }
            switch event {
            case let .clientCredentials(id, secret, respond):
                let entered = ClientCredentials(provider: provider.name, clientID: id, clientSecret: secret)
                client = entered
                respond(.redirect(authorizeURL(entered, state)))
            case let .code(code, respond):
                guard let client else {
                    respond(.page(status: 400, html: Pages.failure(provider: provider.displayName, message: "No client credentials were entered.")))
                    continue
                }
                do {
                    let connection = try exchange(code, client)
                    respond(.page(status: 200, html: Pages.success(provider: provider.displayName, workspace: connection.workspaceName, connection: connection.name)))
                    return (connection, client)
                } catch {
                    respond(.page(status: 400, html: Pages.failure(provider: provider.displayName, message: error.description)))
                    throw error
                }
            case let .providerError(code, description, respond):
                // Whoever can reach the listener wrote these: one line, no terminal controls.
                let text = TerminalText.sanitize(description.map { "\(code): \($0)" } ?? code)
                respond(.page(status: 400, html: Pages.failure(provider: provider.displayName, message: "\(provider.displayName) answered \(text).")))
                let reason = code == "access_denied" ? "the authorization was refused in the browser" : "\(provider.displayName) refused the login"
                throw .authenticationFailed("\(reason) (\(text)); nothing was stored")
            }
        }
    }
}
