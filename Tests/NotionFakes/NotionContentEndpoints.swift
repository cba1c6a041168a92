import Foundation
import NotionAuthCore

/// Notion's content API (search, pages, blocks, databases, data sources, comments, users) as
/// version 2025-09-03 documents it, over `NotionContent`. `NotionEndpoints` authenticates the
/// request and checks Notion-Version first.
enum NotionContentEndpoints {
    private static let resources: Set<String> = ["search", "pages", "blocks", "databases", "data_sources", "comments", "users"]

    /// Whether `path` is the content API's: there, a path the fake does not serve is a 400 as at
    /// Notion, not an echo.
    static func owns(_ path: String) -> Bool {
        guard path.hasPrefix("/v1/") else { return false }
        return resources.contains(String(path.dropFirst(4).prefix { $0 != "/" }))
    }

    /// Answers the request as the bot `user`, whose id changes record as their editor.
    static func respond(to request: RecordedRequest, as user: String, _ content: inout NotionContent) -> FakeResponse {
        do {
            var answer = try answer(request, as: user, &content)
            if case var .object(fields) = answer {
                fields["request_id"] = .string(FakeIDs.uuid())
                answer = .object(fields)
            }
            return .json(200, answer)
        } catch {
            return error.response
        }
    }

    /// The answer to one request, or the error that ends it. Each write finishes before its
    /// answer is rendered: `content.json(try content.createPage(…))` would render from a copy of
    /// the content taken before the write.
    private static func answer(_ request: RecordedRequest, as user: String, _ content: inout NotionContent)
        throws(NotionAPIError) -> JSONValue
    {
        let segments = request.path.dropFirst(4).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let method = request.method
        func allow(_ methods: String...) throws(NotionAPIError) {
            guard methods.contains(method) else { throw .methodNotAllowed(methods) }
        }
        func id(_ index: Int, _ name: String) throws(NotionAPIError) -> String {
            try NotionContent.uuid(segments[index].removingPercentEncoding ?? segments[index], field: "path.\(name)")
        }
        switch (segments[0], segments.count) {
        case ("search", 1):
            try allow("POST")
            return try search(try body(request), content)
        case ("pages", 1):
            try allow("POST")
            let page = try content.createPage(try body(request), by: user)
            return content.json(page)
        case ("pages", 2):
            try allow("GET", "PATCH")
            let pageID = try id(1, "page_id")
            if method == "GET" { return content.json(try content.page(pageID)) }
            let page = try content.updatePage(pageID, try body(request), by: user)
            return content.json(page)
        case ("pages", 4) where segments[2] == "properties":
            try allow("GET")
            let pageID = try id(1, "page_id")
            switch try content.propertyItems(pageID: pageID, propertyID: segments[3]) {
            case let .single(item):
                return item
            case let .list(items, id: propertyID, type: type):
                let info = JSONValue.object([
                    "id": .string(propertyID), "type": .string(type), type: .object([:]), "next_url": .null,
                ])
                let pages = items.enumerated().map { (cursor: String($0.offset), item: $0.element) }
                return try list(pages, type: "property_item", info: info, try listRequest(query: request.query))
            }
        case ("blocks", 2):
            try allow("GET", "PATCH", "DELETE")
            let blockID = try id(1, "block_id")
            switch method {
            case "GET":
                try content.checkAccess(blockID, as: .block)
                if let page = content.pages[blockID] { return content.blockJSON(page) }
                return content.json(try content.block(blockID))
            case "PATCH":
                return try content.updateBlock(blockID, try body(request), by: user)
            default:
                return try content.trashBlock(blockID, by: user)
            }
        case ("blocks", 3) where segments[2] == "children":
            try allow("GET", "PATCH")
            let blockID = try id(1, "block_id")
            if method == "PATCH" {
                let added = try content.appendChildren(to: blockID, try body(request), by: user)
                return try list(added.map { ($0.id, content.json($0)) }, type: "block", ListRequest(size: maximumPageSize))
            }
            _ = try content.container(blockID)
            let children = content.visibleChildren(of: blockID).compactMap { id in content.blocks[id].map { (id, content.json($0)) } }
            return try list(children, type: "block", try listRequest(query: request.query))
        case ("databases", 1):
            try allow("POST")
            let database = try content.createDatabase(try body(request), by: user)
            return content.json(database)
        case ("databases", 2):
            try allow("GET")
            return content.json(try content.database(try id(1, "database_id")))
        case ("data_sources", 2):
            try allow("GET", "PATCH")
            let sourceID = try id(1, "data_source_id")
            if method == "GET" { return content.json(try content.dataSource(sourceID)) }
            let source = try content.updateDataSource(sourceID, try body(request), by: user)
            return content.json(source)
        case ("data_sources", 3) where segments[2] == "query":
            try allow("POST")
            let body = try body(request)
            let rows = try content.rows(of: try id(1, "data_source_id"), filter: body["filter"], sorts: body["sorts"])
            return try list(rows.map { ($0.id, content.json($0)) }, type: "page_or_data_source", try listRequest(body: body))
        case ("comments", 1):
            try allow("GET", "POST")
            if method == "POST" {
                let comment = try content.addComment(try body(request), by: user)
                return content.json(comment)
            }
            guard let raw = request.query["block_id"] else {
                throw .validation("query failed validation: query.block_id should be defined, instead was `undefined`.")
            }
            let comments = try content.comments(on: try NotionContent.uuid(raw, field: "query.block_id"))
            return try list(comments.map { ($0["id"]?.stringValue ?? "", $0) }, type: "comment", try listRequest(query: request.query))
        case ("comments", 2):
            try allow("GET")
            return content.json(try content.comment(try id(1, "comment_id")))
        case ("users", 1):
            try allow("GET")
            let users = content.users.map { ($0["id"]?.stringValue ?? "", $0) }
            return try list(users, type: "user", try listRequest(query: request.query))
        case ("users", 2):
            try allow("GET")
            return try content.user(try id(1, "user_id"))
        default:
            throw .invalidRequestURL
        }
    }

    /// The body as a JSON object; a request without one is taken as `{}`.
    private static func body(_ request: RecordedRequest) throws(NotionAPIError) -> [String: JSONValue] {
        guard !request.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else { return [:] }
        guard let value = try? JSONValue.parse(request.body) else { throw .invalidJSON }
        guard let fields = value.objectValue else { throw NotionContent.invalidBody("body", "should be an object", value) }
        return fields
    }

    private static func search(_ body: [String: JSONValue], _ content: NotionContent) throws(NotionAPIError) -> JSONValue {
        let query = body["query"]?.stringValue ?? ""
        var object: String?
        if let filter = body["filter"] {
            guard filter["property"]?.stringValue == "object" else {
                throw NotionContent.invalidBody("body.filter.property", "should be `\"object\"`", filter["property"])
            }
            object = filter["value"]?.stringValue
            guard object == "page" || object == "data_source" else {
                throw NotionContent.invalidBody("body.filter.value", "should be `\"page\"` or `\"data_source\"`", filter["value"])
            }
        }
        var ascending = false
        if let sort = body["sort"] {
            guard sort["timestamp"]?.stringValue == "last_edited_time" else {
                throw NotionContent.invalidBody("body.sort.timestamp", "should be `\"last_edited_time\"`", sort["timestamp"])
            }
            let direction = sort["direction"]?.stringValue
            guard direction == "ascending" || direction == "descending" else {
                throw NotionContent.invalidBody(
                    "body.sort.direction", "should be `\"ascending\"` or `\"descending\"`", sort["direction"])
            }
            ascending = direction == "ascending"
        }
        let found = content.search(query: query, object: object, ascending: ascending)
        return try list(found.map { ($0["id"]?.stringValue ?? "", $0) }, type: "page_or_data_source", try listRequest(body: body))
    }

    /// Where a list starts and how long it is, as a paginated request asks.
    struct ListRequest {
        var startCursor: String?
        var size: Int
    }

    static let defaultPageSize = 100
    static let maximumPageSize = 100

    private static func listRequest(query: [String: String]) throws(NotionAPIError) -> ListRequest {
        guard let raw = query["page_size"] else { return ListRequest(startCursor: query["start_cursor"], size: defaultPageSize) }
        guard let size = Int(raw) else {
            throw .validation("query failed validation: query.page_size should be a number, instead was `\(NotionContent.quoted(raw))`.")
        }
        return ListRequest(startCursor: query["start_cursor"], size: try checked(size, field: "query.page_size"))
    }

    private static func listRequest(body: [String: JSONValue]) throws(NotionAPIError) -> ListRequest {
        var page = ListRequest(size: defaultPageSize)
        if let cursor = body["start_cursor"], cursor != .null {
            guard let text = cursor.stringValue else {
                throw NotionContent.invalidBody("body.start_cursor", "should be a string", cursor)
            }
            page.startCursor = text
        }
        if let size = body["page_size"], size != .null {
            guard let number = size.int64Value else { throw NotionContent.invalidBody("body.page_size", "should be a number", size) }
            page.size = try checked(Int(clamping: number), field: "body.page_size")
        }
        return page
    }

    private static func checked(_ size: Int, field: String) throws(NotionAPIError) -> Int {
        let origin = field.prefix { $0 != "." }
        if size < 1 {
            throw .validation("\(origin) failed validation: \(field) should be ≥ `1`, instead was `\(size)`.")
        }
        if size > maximumPageSize {
            throw .validation("\(origin) failed validation: \(field) should be ≤ `\(maximumPageSize)`, instead was `\(size)`.")
        }
        return size
    }

    /// Notion's list object. A cursor is the key of the first item on the next page, which keeps
    /// its place when items are added before it; one that names no item is refused.
    private static func list(
        _ items: [(cursor: String, item: JSONValue)], type: String, info: JSONValue = .object([:]), _ page: ListRequest
    ) throws(NotionAPIError) -> JSONValue {
        var start = items.startIndex
        if let cursor = page.startCursor {
            guard let index = items.firstIndex(where: { $0.cursor == cursor }) else {
                throw .validation("The start_cursor provided is invalid: \(cursor)")
            }
            start = index
        }
        let end = min(start + page.size, items.endIndex)
        let next: JSONValue = end < items.endIndex ? .string(items[end].cursor) : .null
        return .object([
            "object": .string("list"), "results": .array(items[start..<end].map(\.item)), "next_cursor": next,
            "has_more": .bool(end < items.endIndex), "type": .string(type), type: info,
        ])
    }
}

extension NotionAPIError {
    var response: FakeResponse {
        switch self {
        case let .objectNotFound(kind, id):
            // Only what can be shared with an integration gets the hint about sharing.
            let sharable: Set<NotionContent.Kind> = [.page, .block, .database, .dataSource]
            let hint = sharable.contains(kind) ? " Make sure the relevant pages and databases are shared with your integration." : ""
            return .notionError(404, "object_not_found", "Could not find \(kind.rawValue) with ID: \(id).\(hint)")
        case .restrictedResource:
            return .notionError(403, "restricted_resource", "Insufficient permissions for this endpoint.")
        case let .validation(message):
            return .notionError(400, "validation_error", message)
        case .invalidJSON:
            return .notionError(400, "invalid_json", "Error parsing JSON body.")
        case .invalidRequestURL:
            return .notionError(400, "invalid_request_url", "Invalid request URL.")
        case let .methodNotAllowed(methods):
            return .methodNotAllowed(methods.joined(separator: ", "))
        }
    }
}
