import Foundation
import MCP
import NotionAuthCore

/// One request to Notion's API, built from a tool call's arguments.
struct NotionRequest {
    var method: String
    /// Fixed text and normalised ids only (`NotionID`); never an argument as given.
    var path: String
    var query: [(String, String)] = []
    var body: [String: Value]?
}

/// A tool: what an agent sees (name, description, input schema, hints) and how its
/// arguments become one request to Notion's API.
struct NotionTool: Sendable {
    enum Effect {
        /// Reads only (`readOnlyHint`); offered under --read-only.
        case reads
        /// Adds content without changing or removing any.
        case adds
        /// Changes or removes content (`destructiveHint`).
        case changes
    }

    let name: String
    let title: String
    let description: String
    let effect: Effect
    /// Input schema properties (JSON Schema), and those that are required.
    let properties: [String: Value]
    let required: [String]
    let request: @Sendable (inout ToolArguments) throws(ToolArgumentError) -> NotionRequest

    var changesContent: Bool { effect != .reads }
}

/// The tools `notionauth mcp notion` offers, over Notion's API version 2025-09-03 (pages,
/// blocks, databases and their data sources, comments, users, search).
enum NotionTools {
    static let all: [NotionTool] = search + pages + blocks + databases + comments + users

    static func named(_ name: String) -> NotionTool? {
        all.first { $0.name == name }
    }

    // MARK: Schema pieces shared by many tools

    static func id(_ what: String) -> Value {
        ["type": "string", "description": "The \(what)'s id (32 hex digits, hyphens optional) or its Notion URL.", "maxLength": .int(NotionID.maxLength)]
    }

    static func object(_ description: String) -> Value {
        ["type": "object", "description": .string(description)]
    }

    static func array(_ description: String) -> Value {
        ["type": "array", "description": .string(description), "items": ["type": "object"]]
    }

    static let startCursor: Value = [
        "type": "string", "maxLength": 1024,
        "description": "The `next_cursor` of the previous result, to get the next page of results.",
    ]
    static let pageSize: Value = ["type": "integer", "minimum": 1, "maximum": 100, "description": "How many results per page (at most 100; default 100)."]
    static let paginated: [String: Value] = ["start_cursor": startCursor, "page_size": pageSize]

    /// The body fields for POST endpoints that paginate in the body.
    private static func paginationBody(_ arguments: inout ToolArguments) throws(ToolArgumentError) -> [String: Value] {
        var body: [String: Value] = [:]
        body["start_cursor"] = try arguments.optionalString("start_cursor", maxLength: ToolArguments.maxCursorLength).map(Value.string)
        body["page_size"] = try arguments.optionalInt("page_size", in: ToolArguments.pageSizes).map(Value.int)
        return body
    }

    /// A tool that sends `method` to `path` followed by one id (`GET /v1/pages/{page_id}`).
    private static func byID(
        _ name: String, title: String, description: String, effect: NotionTool.Effect = .reads,
        method: String = "GET", path: String, id argument: String, what: String
    ) -> NotionTool {
        NotionTool(name: name, title: title, description: description, effect: effect, properties: [argument: id(what)], required: [argument]) {
            (arguments: inout ToolArguments) throws(ToolArgumentError) in
            NotionRequest(method: method, path: "\(path)/\(try arguments.id(argument))")
        }
    }

    private static func richText(_ text: String) -> Value {
        [["type": "text", "text": ["content": .string(text)]]]
    }

    // MARK: Search

    static let search: [NotionTool] = [
        NotionTool(
            name: "notion_search", title: "Search Notion",
            description: """
                Searches the pages and data sources shared with the integration by title. Leave `query` \
                empty to list everything shared. Results are paginated: when `has_more` is true, call again \
                with `start_cursor` set to `next_cursor`. Only content shared with the integration is found; \
                if something is missing, the user must share it (••• → Connections).
                """,
            effect: .reads,
            properties: [
                "query": ["type": "string", "description": "Text to look for in titles.", "maxLength": 2000],
                "object_type": ["type": "string", "enum": ["page", "data_source"], "description": "Only pages, or only data sources."],
                "sort_direction": [
                    "type": "string", "enum": ["ascending", "descending"],
                    "description": "Order by last edited time; default is Notion's relevance order.",
                ],
            ].merging(paginated) { $1 },
            required: []
        ) { (arguments: inout ToolArguments) throws(ToolArgumentError) in
            var body = try paginationBody(&arguments)
            if let query = try arguments.optionalString("query", maxLength: 2000) { body["query"] = .string(query) }
            if let type = try arguments.optionalChoice("object_type", ["page", "data_source"]) {
                body["filter"] = ["property": "object", "value": .string(type)]
            }
            if let direction = try arguments.optionalChoice("sort_direction", ["ascending", "descending"]) {
                body["sort"] = ["direction": .string(direction), "timestamp": "last_edited_time"]
            }
            return NotionRequest(method: "POST", path: "/v1/search", body: body)
        },
    ]

    // MARK: Pages

    static let pages: [NotionTool] = [
        byID(
            "notion_get_page", title: "Get a page",
            description: "Gets a page's properties (title, dates, select values…), parent, icon, cover and URL. For its content, call notion_get_block_children with the page id.",
            path: "/v1/pages", id: "page_id", what: "page"),
        NotionTool(
            name: "notion_get_page_property", title: "Get a page property",
            description: "Gets one property of a page, paginated for long values (relations, rollups, rich text with many parts). `property_id` is the `id` of the property in the page's `properties`.",
            effect: .reads,
            properties: [
                "page_id": id("page"),
                "property_id": ["type": "string", "maxLength": 256, "description": "The property's id, as in the page's `properties` (for example `title` or `%3A%3Fxy`)."],
            ].merging(paginated) { $1 },
            required: ["page_id", "property_id"]
        ) { (arguments: inout ToolArguments) throws(ToolArgumentError) in
            let page = try arguments.id("page_id")
            let property = try arguments.string("property_id", maxLength: 256)
            return NotionRequest(
                method: "GET", path: "/v1/pages/\(page)/properties/\(PathSegment.encode(property))",
                query: try arguments.pagination())
        },
        NotionTool(
            name: "notion_create_page", title: "Create a page",
            description: """
                Creates a page under a page (`parent_page_id`) or as a row of a data source \
                (`parent_data_source_id`; get its schema with notion_get_data_source first, so that \
                `properties` uses its property names and types). Under a page, the only property is \
                `title`: {"title": {"title": [{"text": {"content": "Name"}}]}}. `children` are block objects \
                for the page's content.
                """,
            effect: .adds,
            properties: [
                "parent_page_id": id("parent page"),
                "parent_data_source_id": id("parent data source"),
                "properties": object("Property values by property name, in Notion's page property value format."),
                "children": array("Block objects for the page's content (at most 100)."),
                "icon": object("An emoji or external file object."),
                "cover": object("An external file object."),
            ],
            required: ["properties"]
        ) { (arguments: inout ToolArguments) throws(ToolArgumentError) in
            var body: [String: Value] = [:]
            switch (try arguments.optionalID("parent_page_id"), try arguments.optionalID("parent_data_source_id")) {
            case let (page?, nil): body["parent"] = ["page_id": .string(page)]
            case let (nil, dataSource?): body["parent"] = ["data_source_id": .string(dataSource)]
            default: throw ToolArgumentError("give exactly one of `parent_page_id` and `parent_data_source_id`")
            }
            body["properties"] = try arguments.object("properties")
            body["children"] = try arguments.optionalArray("children")
            body["icon"] = try arguments.optionalObject("icon")
            body["cover"] = try arguments.optionalObject("cover")
            return NotionRequest(method: "POST", path: "/v1/pages", body: body)
        },
        NotionTool(
            name: "notion_update_page", title: "Update a page",
            description: "Changes a page's properties, icon or cover, or moves it to the trash (`in_trash: true`) or restores it (`in_trash: false`). Only the properties given change.",
            effect: .changes,
            properties: [
                "page_id": id("page"),
                "properties": object("Property values to set, by property name."),
                "icon": object("An emoji or external file object."),
                "cover": object("An external file object."),
                "in_trash": ["type": "boolean", "description": "true moves the page to the trash, false restores it."],
            ],
            required: ["page_id"]
        ) { (arguments: inout ToolArguments) throws(ToolArgumentError) in
            let page = try arguments.id("page_id")
            var body: [String: Value] = [:]
            body["properties"] = try arguments.optionalObject("properties")
            body["icon"] = try arguments.optionalObject("icon")
            body["cover"] = try arguments.optionalObject("cover")
            body["in_trash"] = try arguments.optionalBool("in_trash").map(Value.bool)
            guard !body.isEmpty else { throw ToolArgumentError("give at least one of `properties`, `icon`, `cover`, `in_trash`") }
            return NotionRequest(method: "PATCH", path: "/v1/pages/\(page)", body: body)
        },
    ]

    // MARK: Blocks

    static let blocks: [NotionTool] = [
        byID(
            "notion_get_block", title: "Get a block",
            description: "Gets one block (a paragraph, heading, to-do, child page…). A page is also a block: its id works here.",
            path: "/v1/blocks", id: "block_id", what: "block"),
        NotionTool(
            name: "notion_get_block_children", title: "Get a page's or block's content",
            description: "Lists the blocks inside a page or block (the page's content), one level deep, paginated: when `has_more` is true, call again with `start_cursor`. Blocks with `has_children` have content of their own.",
            effect: .reads,
            properties: ["block_id": id("page or block")].merging(paginated) { $1 },
            required: ["block_id"]
        ) { (arguments: inout ToolArguments) throws(ToolArgumentError) in
            let block = try arguments.id("block_id")
            return NotionRequest(method: "GET", path: "/v1/blocks/\(block)/children", query: try arguments.pagination())
        },
        NotionTool(
            name: "notion_append_block_children", title: "Add content to a page or block",
            description: """
                Appends blocks to a page or block (at the end, or after the block `after`). Example child: \
                {"object": "block", "type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": "Hello"}}]}}.
                """,
            effect: .adds,
            properties: [
                "block_id": id("page or block"),
                "children": array("Block objects to append (at most 100)."),
                "after": id("block to insert after"),
            ],
            required: ["block_id", "children"]
        ) { (arguments: inout ToolArguments) throws(ToolArgumentError) in
            let block = try arguments.id("block_id")
            var body: [String: Value] = ["children": try arguments.array("children")]
            body["after"] = try arguments.optionalID("after").map(Value.string)
            return NotionRequest(method: "PATCH", path: "/v1/blocks/\(block)/children", body: body)
        },
        NotionTool(
            name: "notion_update_block", title: "Update a block",
            description: "Changes a block's content: `block` holds the block type's object, as in {\"paragraph\": {\"rich_text\": [...]}} or {\"to_do\": {\"checked\": true}}. `in_trash: true` deletes it.",
            effect: .changes,
            properties: [
                "block_id": id("block"),
                "block": object("The fields to change, keyed by the block's type."),
                "in_trash": ["type": "boolean", "description": "true moves the block to the trash, false restores it."],
            ],
            required: ["block_id"]
        ) { (arguments: inout ToolArguments) throws(ToolArgumentError) in
            let block = try arguments.id("block_id")
            var body = try arguments.optionalObject("block")?.objectValue ?? [:]
            body["in_trash"] = try arguments.optionalBool("in_trash").map(Value.bool)
            guard !body.isEmpty else { throw ToolArgumentError("give `block`, `in_trash` or both") }
            return NotionRequest(method: "PATCH", path: "/v1/blocks/\(block)", body: body)
        },
        byID(
            "notion_delete_block", title: "Delete a block",
            description: "Moves a block (or a page, by its id) to the trash. It can be restored with notion_update_block and `in_trash: false`.",
            effect: .changes, method: "DELETE", path: "/v1/blocks", id: "block_id", what: "block"),
    ]

    // MARK: Databases and data sources

    static let databases: [NotionTool] = [
        byID(
            "notion_get_database", title: "Get a database",
            description: "Gets a database: its title, parent and its data sources (`data_sources`: id and name). Rows and the schema belong to a data source: use notion_get_data_source and notion_query_data_source with one of those ids.",
            path: "/v1/databases", id: "database_id", what: "database"),
        byID(
            "notion_get_data_source", title: "Get a data source's schema",
            description: "Gets a data source: its properties (name, id, type and options) — the schema that rows created with notion_create_page and filters for notion_query_data_source must follow. Each user's databases have their own properties: read this first.",
            path: "/v1/data_sources", id: "data_source_id", what: "data source"),
        NotionTool(
            name: "notion_query_data_source", title: "Query a data source's rows",
            description: """
                Lists the rows (pages) of a data source, optionally filtered and sorted, paginated. Filter \
                example: {"property": "Status", "select": {"equals": "Done"}}; sorts example: \
                [{"property": "Due", "direction": "ascending"}].
                """,
            effect: .reads,
            properties: [
                "data_source_id": id("data source"),
                "filter": object("A Notion filter object."),
                "sorts": array("Sort objects, applied in order."),
            ].merging(paginated) { $1 },
            required: ["data_source_id"]
        ) { (arguments: inout ToolArguments) throws(ToolArgumentError) in
            let dataSource = try arguments.id("data_source_id")
            var body = try paginationBody(&arguments)
            body["filter"] = try arguments.optionalObject("filter")
            body["sorts"] = try arguments.optionalArray("sorts")
            return NotionRequest(method: "POST", path: "/v1/data_sources/\(dataSource)/query", body: body)
        },
        NotionTool(
            name: "notion_create_database", title: "Create a database",
            description: """
                Creates a database under a page, with one data source whose schema is `properties`, \
                for example {"Name": {"title": {}}, "Status": {"select": {"options": [{"name": "Done"}]}}}. \
                Exactly one property must be a title.
                """,
            effect: .adds,
            properties: [
                "parent_page_id": id("parent page"),
                "title": ["type": "string", "maxLength": 2000, "description": "The database's title."],
                "properties": object("The data source's properties by name, in Notion's property schema format."),
            ],
            required: ["parent_page_id", "properties"]
        ) { (arguments: inout ToolArguments) throws(ToolArgumentError) in
            var body: [String: Value] = ["parent": ["type": "page_id", "page_id": .string(try arguments.id("parent_page_id"))]]
            if let title = try arguments.optionalString("title", maxLength: 2000) { body["title"] = richText(title) }
            body["initial_data_source"] = ["properties": try arguments.object("properties")]
            return NotionRequest(method: "POST", path: "/v1/databases", body: body)
        },
        NotionTool(
            name: "notion_update_data_source", title: "Change a data source's schema",
            description: "Renames a data source or changes its properties: add or change one with its schema, rename with {\"Old\": {\"name\": \"New\"}}, remove with {\"Old\": null}. Removing a property removes its values from every row.",
            effect: .changes,
            properties: [
                "data_source_id": id("data source"),
                "title": ["type": "string", "maxLength": 2000, "description": "A new title."],
                "properties": object("Property changes by name."),
            ],
            required: ["data_source_id"]
        ) { (arguments: inout ToolArguments) throws(ToolArgumentError) in
            let dataSource = try arguments.id("data_source_id")
            var body: [String: Value] = [:]
            if let title = try arguments.optionalString("title", maxLength: 2000) { body["title"] = richText(title) }
            body["properties"] = try arguments.optionalObject("properties")
            guard !body.isEmpty else { throw ToolArgumentError("give `title`, `properties` or both") }
            return NotionRequest(method: "PATCH", path: "/v1/data_sources/\(dataSource)", body: body)
        },
    ]

    // MARK: Comments

    static let comments: [NotionTool] = [
        NotionTool(
            name: "notion_list_comments", title: "List comments",
            description: "Lists the open comments on a page or block, oldest first, paginated. Comments in one thread share a `discussion_id`.",
            effect: .reads,
            properties: ["block_id": id("page or block")].merging(paginated) { $1 },
            required: ["block_id"]
        ) { (arguments: inout ToolArguments) throws(ToolArgumentError) in
            let block = try arguments.id("block_id")
            return NotionRequest(method: "GET", path: "/v1/comments", query: [("block_id", block)] + (try arguments.pagination()))
        },
        NotionTool(
            name: "notion_create_comment", title: "Comment on a page",
            description: "Adds a comment to a page (`page_id`, a new thread) or replies in a thread (`discussion_id`, from notion_list_comments). Give the text as `text`, or as Notion `rich_text`.",
            effect: .adds,
            properties: [
                "page_id": id("page"),
                "discussion_id": id("discussion"),
                "text": ["type": "string", "maxLength": 2000, "description": "The comment's plain text."],
                "rich_text": array("The comment as rich text objects, instead of `text`."),
            ],
            required: []
        ) { (arguments: inout ToolArguments) throws(ToolArgumentError) in
            var body: [String: Value] = [:]
            switch (try arguments.optionalID("page_id"), try arguments.optionalID("discussion_id")) {
            case let (page?, nil): body["parent"] = ["page_id": .string(page)]
            case let (nil, discussion?): body["discussion_id"] = .string(discussion)
            default: throw ToolArgumentError("give exactly one of `page_id` and `discussion_id`")
            }
            switch (try arguments.optionalString("text", maxLength: 2000), try arguments.optionalArray("rich_text")) {
            case let (text?, nil): body["rich_text"] = richText(text)
            case let (nil, rich?): body["rich_text"] = rich
            default: throw ToolArgumentError("give exactly one of `text` and `rich_text`")
            }
            return NotionRequest(method: "POST", path: "/v1/comments", body: body)
        },
        byID(
            "notion_get_comment", title: "Get a comment",
            description: "Gets one comment by its id (as notion_list_comments gives it): its rich text, author and discussion.",
            path: "/v1/comments", id: "comment_id", what: "comment"),
    ]

    // MARK: Users

    static let users: [NotionTool] = [
        NotionTool(
            name: "notion_list_users", title: "List users",
            description: "Lists the workspace's people and bots (names; email addresses when the integration may read them), paginated.",
            effect: .reads, properties: paginated, required: []
        ) { (arguments: inout ToolArguments) throws(ToolArgumentError) in
            NotionRequest(method: "GET", path: "/v1/users", query: try arguments.pagination())
        },
        byID(
            "notion_get_user", title: "Get a user",
            description: "Gets one user (a person or a bot) by id, as found in `created_by`, people properties or comments.",
            path: "/v1/users", id: "user_id", what: "user"),
        NotionTool(
            name: "notion_get_self", title: "Who am I",
            description: "Gets the integration's own bot user: its name, and the workspace it is connected to.",
            effect: .reads, properties: [:], required: []
        ) { (_: inout ToolArguments) throws(ToolArgumentError) in
            NotionRequest(method: "GET", path: "/v1/users/me")
        },
    ]
}

/// One path segment from a value that is not an id (a page property's id): percent-decoded
/// once, as Notion gives these ids already encoded, then encoded again whole, so that `/`, `?`,
/// `#` and `..` stay inside the segment.
enum PathSegment {
    static func encode(_ text: String) -> String {
        let decoded = text.removingPercentEncoding ?? text
        let encoded = URLEncoding.component(decoded)
        return encoded == "." || encoded == ".." ? encoded.replacing(".", with: "%2E") : encoded
    }
}
