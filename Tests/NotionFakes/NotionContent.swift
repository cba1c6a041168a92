import Foundation
import NotionAuthCore

/// Notion's error codes as the content API answers them; `NotionContentEndpoints` writes each as
/// Notion's JSON error.
enum NotionAPIError: Error {
    /// Missing objects and objects the integration may not see answer alike, as Notion answers.
    case objectNotFound(NotionContent.Kind, String)
    case restrictedResource
    case validation(String)
    case invalidJSON
    case invalidRequestURL
    case methodNotAllowed([String])
}

/// The workspace behind the fake's content API: pages, blocks, databases with their data
/// sources, comments and users, held in memory so that a change shows in later reads.
///
/// What clients write free-form (property values, block content, rich text, icons) is kept as
/// `JSONValue`, in the complete form Notion answers with (NotionContentInput.swift fills it in).
/// Pages and databases are not listed among their parent's block children, so that the seeded
/// page's children are exactly its paragraphs.
struct NotionContent: Sendable {
    /// The nouns Notion's messages use ("Could not find data source with ID: …").
    enum Kind: String, Sendable {
        case page, block, database, dataSource = "data source", comment, discussion, user, property
    }

    enum Parent: Sendable, Equatable {
        case workspace
        case page(String)
        case block(String)
        case database(String)
        case dataSource(String, databaseID: String)

        var json: JSONValue {
            switch self {
            case .workspace: .object(["type": .string("workspace"), "workspace": .bool(true)])
            case let .page(id): .object(["type": .string("page_id"), "page_id": .string(id)])
            case let .block(id): .object(["type": .string("block_id"), "block_id": .string(id)])
            case let .database(id): .object(["type": .string("database_id"), "database_id": .string(id)])
            case let .dataSource(id, databaseID):
                .object([
                    "type": .string("data_source_id"), "data_source_id": .string(id), "database_id": .string(databaseID),
                ])
            }
        }
    }

    /// Who made an object and who changed it last, and when.
    struct History: Sendable {
        var createdTime: String
        var lastEditedTime: String
        var createdBy: String
        var lastEditedBy: String

        init(at time: String, by user: String) {
            (createdTime, lastEditedTime, createdBy, lastEditedBy) = (time, time, user, user)
        }

        mutating func edit(at time: String, by user: String) {
            (lastEditedTime, lastEditedBy) = (time, user)
        }

        var fields: [String: JSONValue] {
            [
                "created_time": .string(createdTime), "last_edited_time": .string(lastEditedTime),
                "created_by": NotionContent.userReference(createdBy),
                "last_edited_by": NotionContent.userReference(lastEditedBy),
            ]
        }
    }

    struct Page: Sendable {
        var id: String
        var parent: Parent
        /// By property name; each value carries its `id` and `type`, as Notion answers it.
        var properties: [String: JSONValue]
        var icon: JSONValue = .null
        var cover: JSONValue = .null
        var history: History
        var inTrash = false
    }

    struct Block: Sendable {
        var id: String
        var parent: Parent
        var type: String
        /// The object under the block's type key (`paragraph: {rich_text, color}`).
        var content: JSONValue
        var history: History
        var inTrash = false
    }

    struct Database: Sendable {
        var id: String
        var parent: Parent
        var title: [JSONValue]
        var dataSourceIDs: [String]
        var history: History
        var inTrash = false
    }

    struct DataSource: Sendable {
        var id: String
        var databaseID: String
        var title: [JSONValue]
        /// The schema by property name: `{id, name, type, <type>: configuration}`.
        var properties: [String: JSONValue]
        /// Rows in creation order, which is the order a query without sorts answers in.
        var rowIDs: [String] = []
        var history: History
        var inTrash = false
    }

    struct Comment: Sendable {
        var id: String
        var parent: Parent
        var discussionID: String
        var richText: [JSONValue]
        var history: History
    }

    var pages: [String: Page] = [:]
    var blocks: [String: Block] = [:]
    /// Block children of pages and blocks, in order, trashed ones included (reads skip them).
    var children: [String: [String]] = [:]
    var databases: [String: Database] = [:]
    var dataSources: [String: DataSource] = [:]
    var comments: [Comment] = []
    var users: [JSONValue] = []
    /// Pages that exist but that the integration may not read: not shared with it (404) or
    /// needing a capability it lacks (403).
    var unsharedIDs: Set<String> = []
    var restrictedIDs: Set<String> = []

    static func userReference(_ id: String) -> JSONValue {
        .object(["object": .string("user"), "id": .string(id)])
    }

    /// Notion's timestamps: UTC with milliseconds.
    static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func url(title: String, id: String) -> String {
        let slug = title.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).joined(separator: "-")
        let bare = id.replacingOccurrences(of: "-", with: "")
        return "https://www.notion.so/" + (slug.isEmpty ? bare : slug + "-" + bare)
    }

    static func plainText(_ richText: [JSONValue]) -> String {
        richText.compactMap { $0["plain_text"]?.stringValue }.joined()
    }

    /// Hidden pages answer as Notion answers for them, whatever the endpoint.
    func checkAccess(_ id: String, as kind: Kind) throws(NotionAPIError) {
        if unsharedIDs.contains(id) { throw .objectNotFound(kind, id) }
        if restrictedIDs.contains(id) { throw .restrictedResource }
    }

    func page(_ id: String) throws(NotionAPIError) -> Page {
        try checkAccess(id, as: .page)
        guard let page = pages[id] else { throw .objectNotFound(.page, id) }
        return page
    }

    func block(_ id: String) throws(NotionAPIError) -> Block {
        try checkAccess(id, as: .block)
        guard let block = blocks[id] else { throw .objectNotFound(.block, id) }
        return block
    }

    func database(_ id: String) throws(NotionAPIError) -> Database {
        guard let database = databases[id] else { throw .objectNotFound(.database, id) }
        return database
    }

    func dataSource(_ id: String) throws(NotionAPIError) -> DataSource {
        guard let dataSource = dataSources[id] else { throw .objectNotFound(.dataSource, id) }
        return dataSource
    }

    func comment(_ id: String) throws(NotionAPIError) -> Comment {
        guard let comment = comments.first(where: { $0.id == id }) else { throw .objectNotFound(.comment, id) }
        return comment
    }

    func user(_ id: String) throws(NotionAPIError) -> JSONValue {
        guard let user = users.first(where: { $0["id"]?.stringValue == id }) else { throw .objectNotFound(.user, id) }
        return user
    }

    /// A page or a block: what block endpoints and comments accept as a parent.
    func container(_ id: String) throws(NotionAPIError) -> Parent {
        try checkAccess(id, as: .block)
        if pages[id] != nil { return .page(id) }
        if blocks[id] != nil { return .block(id) }
        throw .objectNotFound(.block, id)
    }

    func visibleChildren(of id: String) -> [String] {
        (children[id] ?? []).filter { blocks[$0]?.inTrash == false }
    }

    func title(of page: Page) -> String {
        let title = page.properties.values.first { $0["type"]?.stringValue == "title" }
        guard case let .array(richText)? = title?["title"] else { return "" }
        return Self.plainText(richText)
    }

    func json(_ page: Page) -> JSONValue {
        var fields = page.history.fields
        fields.merge([
            "object": .string("page"), "id": .string(page.id), "parent": page.parent.json,
            "properties": .object(page.properties), "icon": page.icon, "cover": page.cover,
            "in_trash": .bool(page.inTrash), "archived": .bool(page.inTrash), "is_locked": .bool(false),
            "url": .string(Self.url(title: title(of: page), id: page.id)), "public_url": .null,
        ]) { $1 }
        return .object(fields)
    }

    func json(_ block: Block) -> JSONValue {
        blockJSON(
            id: block.id, parent: block.parent, type: block.type, content: block.content, history: block.history,
            inTrash: block.inTrash)
    }

    /// A page read through the block endpoints, as its `child_page` block.
    func blockJSON(_ page: Page) -> JSONValue {
        blockJSON(
            id: page.id, parent: page.parent, type: "child_page",
            content: .object(["title": .string(title(of: page))]), history: page.history, inTrash: page.inTrash)
    }

    private func blockJSON(id: String, parent: Parent, type: String, content: JSONValue, history: History, inTrash: Bool)
        -> JSONValue
    {
        var fields = history.fields
        fields.merge([
            "object": .string("block"), "id": .string(id), "parent": parent.json, "type": .string(type),
            type: content, "has_children": .bool(!visibleChildren(of: id).isEmpty),
            "in_trash": .bool(inTrash), "archived": .bool(inTrash),
        ]) { $1 }
        return .object(fields)
    }

    func json(_ database: Database) -> JSONValue {
        let sources: [JSONValue] = database.dataSourceIDs.compactMap { id in
            dataSources[id].map { .object(["id": .string($0.id), "name": .string(Self.plainText($0.title))]) }
        }
        var fields = database.history.fields
        fields.merge([
            "object": .string("database"), "id": .string(database.id), "parent": database.parent.json,
            "title": .array(database.title), "description": .array([]), "data_sources": .array(sources),
            "is_inline": .bool(false), "is_locked": .bool(false), "in_trash": .bool(database.inTrash),
            "icon": .null, "cover": .null,
            "url": .string(Self.url(title: Self.plainText(database.title), id: database.id)), "public_url": .null,
        ]) { $1 }
        return .object(fields)
    }

    func json(_ dataSource: DataSource) -> JSONValue {
        var fields = dataSource.history.fields
        fields.merge([
            "object": .string("data_source"), "id": .string(dataSource.id),
            "parent": Parent.database(dataSource.databaseID).json,
            "database_parent": databases[dataSource.databaseID]?.parent.json ?? .null,
            "title": .array(dataSource.title), "description": .array([]),
            "properties": .object(dataSource.properties), "is_inline": .bool(false),
            "in_trash": .bool(dataSource.inTrash), "archived": .bool(dataSource.inTrash), "icon": .null, "cover": .null,
            "url": .string(Self.url(title: Self.plainText(dataSource.title), id: dataSource.id)), "public_url": .null,
        ]) { $1 }
        return .object(fields)
    }

    func json(_ comment: Comment) -> JSONValue {
        var fields = comment.history.fields
        fields["last_edited_by"] = nil
        fields.merge([
            "object": .string("comment"), "id": .string(comment.id), "parent": comment.parent.json,
            "discussion_id": .string(comment.discussionID), "rich_text": .array(comment.richText),
        ]) { $1 }
        return .object(fields)
    }
}

extension JSONValue {
    var arrayValue: [JSONValue]? {
        if case let .array(items) = self { return items }
        return nil
    }

    var objectValue: [String: JSONValue]? {
        if case let .object(fields) = self { return fields }
        return nil
    }

    var boolValue: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }
}
