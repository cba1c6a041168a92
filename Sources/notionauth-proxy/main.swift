import NotionAuthCLI
import NotionAuthPostgres
import NotionAuthProxy

// What `notionauth run --proxy …` becomes: the same CLI with the proxy linked in, and the
// PostgreSQL store, so that a run against a shared store needs no further hand-off.
Runner.main(storeOpeners: { _ in PostgresStore.openers }, proxyStarter: InterceptingProxy.start)
