import NotionAuthCLI

// A postgres:// store runs the command as notionauth-postgres: the driver stays out of here.
Runner.main { arguments in StoreHandOff.openers(arguments: arguments) }
