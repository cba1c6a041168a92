import NotionAuthCLI
import NotionAuthPostgres

// notionauth with the PostgreSQL store linked in: `notionauth` runs it, with the same
// arguments, when the store is a postgres:// URL (StoreHandOff).
Runner.main { _ in PostgresStore.openers }
