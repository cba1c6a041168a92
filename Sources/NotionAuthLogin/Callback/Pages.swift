import NotionAuthCore
/// The small pages a person sees in the browser during a login. Every value that comes from
/// outside (provider errors, names) is HTML-escaped.
public enum Pages {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func document(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title)) · notionauth</title>
        <style>
        body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1f1f1f}
        h1{font-size:1.4rem;margin-bottom:.5rem}
        code{background:#f1f1ef;padding:.1rem .3rem;border-radius:4px;word-break:break-all}
        label{display:block;margin-top:1rem;font-weight:600}
        input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #ccc;border-radius:6px}
        button{margin-top:1.2rem;padding:.5rem 1rem;font:inherit;border:0;border-radius:6px;background:#2383e2;color:#fff;cursor:pointer}
        button.secondary{background:#e9e9e7;color:#1f1f1f;margin:0 0 0 .5rem;padding:.2rem .6rem}
        .muted{color:#6b6b6b}
        </style></head>
        <body>
        \(body)
        </body></html>

        """
    }

    /// A page with a heading and one paragraph, both escaped.
    public static func message(title: String, text: String) -> String {
        document(title: title, body: "<h1>\(escape(title))</h1>\n<p>\(escape(text))</p>")
    }

    public static func success(provider: String, workspace: String?, connection: String) -> String {
        let place = workspace.map { " to the workspace <strong>\(escape($0))</strong>" } ?? ""
        return document(title: "Logged in", body: """
            <h1 id="result">Logged in to \(escape(provider))</h1>
            <p>notionauth is connected\(place) as connection <code>\(escape(connection))</code>.</p>
            <p class="muted">You can close this tab and return to the terminal.</p>
            """)
    }

    public static func failure(provider: String, message: String) -> String {
        document(title: "Login failed", body: """
            <h1 id="result">\(escape(provider)) login failed</h1>
            <p>\(escape(message))</p>
            <p class="muted">Return to the terminal for details.</p>
            """)
    }

    /// The first-run page: the redirect URI to register, a link to the integrations
    /// dashboard, and a form for the client id and secret.
    public static func clientCredentialsForm(provider: String, redirectURI: String, dashboardURL: String?, csrfToken: String) -> String {
        let dashboard = dashboardURL.map { #"<a href="\#(escape($0))" target="_blank" rel="noopener noreferrer">integrations dashboard</a>"# } ?? "integrations dashboard"
        return document(title: "Connect \(provider)", body: """
            <h1>Connect notionauth to \(escape(provider))</h1>
            <p>Create a <strong>public integration</strong> in the \(dashboard) and add this redirect URI to it:</p>
            <p><code id="redirect_uri">\(escape(redirectURI))</code><button type="button" class="secondary" id="copy">Copy</button></p>
            <form method="post" action="/" autocomplete="off">
            <input type="hidden" name="csrf_token" value="\(escape(csrfToken))">
            <label for="client_id">OAuth client ID</label>
            <input id="client_id" name="client_id" required spellcheck="false">
            <label for="client_secret">OAuth client secret</label>
            <input id="client_secret" name="client_secret" type="password" required>
            <button type="submit" id="submit">Continue to \(escape(provider))</button>
            </form>
            <p class="muted">The secret is stored encrypted in your notionauth vault on this computer.</p>
            <script>
            document.getElementById("copy").addEventListener("click", function () {
              navigator.clipboard.writeText(document.getElementById("redirect_uri").textContent).then(function () {
                document.getElementById("copy").textContent = "Copied";
              });
            });
            </script>
            """)
    }
}
