import Foundation
import NotionAuthCore

/// The content API's writes. Each checks the whole request before it changes anything, and
/// records `user` (the bot of the token that asked) as the last editor.
extension NotionContent {
    mutating func createPage(_ body: [String: JSONValue], by user: String) throws(NotionAPIError) -> Page {
        let parent = try pageParent(body["parent"])
        let history = History(at: Self.timestamp(), by: user)
        let id = FakeIDs.uuid()
        let newBlocks = try Self.newBlocks(body["children"], under: .page(id), at: "body.children", history: history)
        var properties = schema(for: parent).mapValues { entry -> JSONValue in
            let type = entry["type"]?.stringValue ?? "rich_text"
            return .object(["id": entry["id"] ?? .null, "type": .string(type), type: Self.emptyValue(ofType: type)])
        }
        properties.merge(try propertyValues(body["properties"], parent: parent)) { $1 }
        pages[id] = Page(
            id: id, parent: parent, properties: properties, icon: body["icon"] ?? .null, cover: body["cover"] ?? .null,
            history: history)
        if case let .dataSource(sourceID, _) = parent {
            dataSources[sourceID]?.rowIDs.append(id)
        }
        insert(newBlocks, into: id)
        return pages[id]!
    }

    /// `{page_id}`, `{data_source_id}`, or `{database_id}` of a database with a single data source,
    /// which version 2025-09-03 still accepts.
    private func pageParent(_ value: JSONValue?) throws(NotionAPIError) -> Parent {
        guard let parent = value?.objectValue else { throw Self.invalidBody("body.parent", "should be defined", value) }
        if let raw = parent["page_id"]?.stringValue {
            return .page(try page(try Self.uuid(raw, field: "body.parent.page_id")).id)
        }
        if let raw = parent["data_source_id"]?.stringValue {
            let source = try dataSource(try Self.uuid(raw, field: "body.parent.data_source_id"))
            return .dataSource(source.id, databaseID: source.databaseID)
        }
        if let raw = parent["database_id"]?.stringValue {
            let database = try database(try Self.uuid(raw, field: "body.parent.database_id"))
            guard database.dataSourceIDs.count == 1 else {
                throw .validation("Database \(database.id) has several data sources; give parent.data_source_id.")
            }
            return .dataSource(database.dataSourceIDs[0], databaseID: database.id)
        }
        throw Self.invalidBody("body.parent", "should have `page_id`, `data_source_id` or `database_id`", value)
    }

    mutating func updatePage(_ id: String, _ body: [String: JSONValue], by user: String) throws(NotionAPIError) -> Page {
        var page = try page(id)
        let trash = body["in_trash"]?.boolValue ?? body["archived"]?.boolValue
        if page.inTrash, trash != false, ["properties", "icon", "cover"].contains(where: { body[$0] != nil }) {
            throw .validation("Can't edit block that is archived. You must unarchive the block before editing.")
        }
        page.properties.merge(try propertyValues(body["properties"], parent: page.parent)) { $1 }
        if let icon = body["icon"] { page.icon = icon }
        if let cover = body["cover"] { page.cover = cover }
        if let trash { page.inTrash = trash }
        page.history.edit(at: Self.timestamp(), by: user)
        pages[id] = page
        return page
    }

    /// Appends to a page's or a block's children; answers with the new top-level blocks.
    mutating func appendChildren(to id: String, _ body: [String: JSONValue], by user: String) throws(NotionAPIError)
        -> [Block]
    {
        let parent = try container(id)
        var after: String?
        if let raw = body["after"] {
            guard let rawID = raw.stringValue else { throw Self.invalidBody("body.after", "should be a string", raw) }
            let afterID = try Self.uuid(rawID, field: "body.after")
            guard children[id]?.contains(afterID) == true else {
                throw .validation("Block \(afterID) is not a child of \(id), so children cannot be appended after it.")
            }
            after = afterID
        }
        guard body["children"] != nil else { throw Self.invalidBody("body.children", "should be defined", nil) }
        let newBlocks = try Self.newBlocks(
            body["children"], under: parent, at: "body.children", history: History(at: Self.timestamp(), by: user))
        insert(newBlocks, into: id, after: after)
        touch(parent, by: user)
        return newBlocks.map(\.block)
    }

    /// Updates a block's content (its type stays) or moves it to or from the trash; a page's id
    /// updates the page through its `child_page` block.
    mutating func updateBlock(_ id: String, _ body: [String: JSONValue], by user: String) throws(NotionAPIError) -> JSONValue {
        let trash = body["in_trash"]?.boolValue ?? body["archived"]?.boolValue
        if pages[id] != nil {
            var update: [String: JSONValue] = [:]
            if let title = body["child_page"]?["title"] {
                update["properties"] = .object(["title": .object(["title": .array([Self.richText(title.stringValue ?? "")])])])
            }
            update["in_trash"] = trash.map { .bool($0) }
            let page = try updatePage(id, update, by: user)
            return blockJSON(page)
        }
        var block = try block(id)
        if let given = body.first(where: { Self.blockTypes.contains($0.key) }) {
            guard given.key == block.type else {
                throw .validation("Block type `\(given.key)` does not match the block's type `\(block.type)`.")
            }
            if block.inTrash, trash != false {
                throw .validation("Can't edit block that is archived. You must unarchive the block before editing.")
            }
            var content = block.content.objectValue ?? [:]
            for (key, value) in given.value.objectValue ?? [:] {
                content[key] = key == "rich_text" ? .array(try Self.richText(value, at: "body.\(block.type).rich_text")) : value
            }
            block.content = .object(content)
        }
        if let trash { block.inTrash = trash }
        block.history.edit(at: Self.timestamp(), by: user)
        blocks[id] = block
        return json(block)
    }

    /// DELETE moves a block (or a page) to the trash; Notion answers with it.
    mutating func trashBlock(_ id: String, by user: String) throws(NotionAPIError) -> JSONValue {
        try updateBlock(id, ["in_trash": .bool(true)], by: user)
    }

    private mutating func touch(_ parent: Parent, by user: String) {
        let time = Self.timestamp()
        switch parent {
        case let .page(id): pages[id]?.history.edit(at: time, by: user)
        case let .block(id): blocks[id]?.history.edit(at: time, by: user)
        default: break
        }
    }

    /// A database under a page, with its first data source made from `initial_data_source`.
    mutating func createDatabase(_ body: [String: JSONValue], by user: String) throws(NotionAPIError) -> Database {
        guard let raw = body["parent"]?["page_id"]?.stringValue else {
            throw Self.invalidBody("body.parent.page_id", "should be defined", body["parent"]?["page_id"])
        }
        let pageID = try page(try Self.uuid(raw, field: "body.parent.page_id")).id
        let title = body["title"] == nil ? [] : try Self.richText(body["title"], at: "body.title")
        let schemaInput = body["initial_data_source"]?["properties"] ?? .object([:])
        guard let schemaFields = schemaInput.objectValue else {
            throw Self.invalidBody("body.initial_data_source.properties", "should be an object", schemaInput)
        }
        var properties: [String: JSONValue] = [:]
        for (name, input) in schemaFields {
            properties[name] = try Self.propertySchema(
                name: name, input: input, id: nil, at: "body.initial_data_source.properties.\(name)")
        }
        guard properties.values.filter({ $0["type"]?.stringValue == "title" }).count == 1 else {
            throw .validation("A data source must have exactly one title property.")
        }
        let history = History(at: Self.timestamp(), by: user)
        let database = Database(
            id: FakeIDs.uuid(), parent: .page(pageID), title: title, dataSourceIDs: [FakeIDs.uuid()], history: history)
        databases[database.id] = database
        dataSources[database.dataSourceIDs[0]] = DataSource(
            id: database.dataSourceIDs[0], databaseID: database.id, title: title, properties: properties, history: history)
        return database
    }

    /// Renames, retypes, adds (`{"Name": {"select": {}}}`) or removes (`{"Name": null}`) properties
    /// and changes the title; rows follow renames and removals.
    mutating func updateDataSource(_ id: String, _ body: [String: JSONValue], by user: String) throws(NotionAPIError)
        -> DataSource
    {
        var source = try dataSource(id)
        if let title = body["title"] {
            source.title = try Self.richText(title, at: "body.title")
        }
        var renames: [(from: String, to: String?)] = []
        if let input = body["properties"] {
            guard let fields = input.objectValue else { throw Self.invalidBody("body.properties", "should be an object", input) }
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                let field = "body.properties.\(key)"
                guard let existing = Self.schemaEntry(key, in: source.properties) else {
                    guard value != .null else { throw .validation("\(key) is not a property that exists.") }
                    source.properties[key] = try Self.propertySchema(name: key, input: value, id: nil, at: field)
                    continue
                }
                let isTitle = existing.entry["type"]?.stringValue == "title"
                guard value != .null else {
                    guard !isTitle else { throw .validation("The title property cannot be removed.") }
                    source.properties[existing.name] = nil
                    renames.append((existing.name, nil))
                    continue
                }
                let newName = value["name"]?.stringValue ?? existing.name
                var entry = existing.entry
                let retyped = value.objectValue?.keys.contains { Self.propertyTypes.contains($0) } ?? false
                if retyped {
                    entry = try Self.propertySchema(name: newName, input: value, id: existing.entry["id"]?.stringValue, at: field)
                    guard (entry["type"]?.stringValue == "title") == isTitle else {
                        throw .validation("The title property cannot change its type, nor can another become the title.")
                    }
                } else if case var .object(fields) = entry {
                    fields["name"] = .string(newName)
                    entry = .object(fields)
                }
                source.properties[existing.name] = nil
                source.properties[newName] = entry
                renames.append((existing.name, newName))
            }
        }
        source.history.edit(at: Self.timestamp(), by: user)
        dataSources[id] = source
        for rowID in source.rowIDs {
            for rename in renames {
                guard let value = pages[rowID]?.properties.removeValue(forKey: rename.from), let to = rename.to,
                    let entry = source.properties[to], let type = entry["type"]?.stringValue
                else { continue }
                pages[rowID]?.properties[to] =
                    value["type"]?.stringValue == type
                    ? value : .object(["id": entry["id"] ?? .null, "type": .string(type), type: Self.emptyValue(ofType: type)])
            }
        }
        return source
    }

    /// A comment that starts a discussion on a page or block, or one that answers in a discussion.
    mutating func addComment(_ body: [String: JSONValue], by user: String) throws(NotionAPIError) -> Comment {
        let richText = try Self.richText(body["rich_text"], at: "body.rich_text")
        let parent: Parent
        let discussionID: String
        if let raw = body["discussion_id"]?.stringValue {
            let id = try Self.uuid(raw, field: "body.discussion_id")
            guard let first = comments.first(where: { $0.discussionID == id }) else { throw .objectNotFound(.discussion, id) }
            (parent, discussionID) = (first.parent, id)
        } else if let raw = body["parent"]?["page_id"]?.stringValue {
            parent = .page(try page(try Self.uuid(raw, field: "body.parent.page_id")).id)
            discussionID = FakeIDs.uuid()
        } else if let raw = body["parent"]?["block_id"]?.stringValue {
            parent = try container(try Self.uuid(raw, field: "body.parent.block_id"))
            discussionID = FakeIDs.uuid()
        } else {
            throw .validation("body failed validation: body should have `parent` (with `page_id` or `block_id`) or `discussion_id`.")
        }
        let comment = Comment(
            id: FakeIDs.uuid(), parent: parent, discussionID: discussionID, richText: richText,
            history: History(at: Self.timestamp(), by: user))
        comments.append(comment)
        return comment
    }
}
