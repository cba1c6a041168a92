import Foundation
import NotionAuthCore

/// What clients write, checked and completed into the form Notion stores and answers with:
/// ids, rich text, property values, property schemas and blocks.
extension NotionContent {
    /// A Notion id in either form (with or without hyphens), hyphenated; `field` names it in the
    /// error as Notion does (`path.page_id`, `body.parent.page_id`).
    static func uuid(_ raw: String, field: String) throws(NotionAPIError) -> String {
        let hex = raw.replacingOccurrences(of: "-", with: "").lowercased()
        guard hex.count == 32, hex.allSatisfy({ "0123456789abcdef".contains($0) }) else {
            let origin = field.prefix { $0 != "." }
            throw .validation("\(origin) failed validation: \(field) should be a valid uuid, instead was `\(quoted(raw))`.")
        }
        var groups: [Substring] = []
        var rest = Substring(hex)
        for length in [8, 4, 4, 4, 12] {
            groups.append(rest.prefix(length))
            rest = rest.dropFirst(length)
        }
        return groups.joined(separator: "-")
    }

    /// A value as Notion's validation messages show it: JSON, `undefined` when absent.
    static func shown(_ value: JSONValue?) -> String {
        value?.encoded() ?? "undefined"
    }

    static func quoted(_ text: String) -> String {
        JSONValue.string(text).encoded()
    }

    static func invalidBody(_ field: String, _ expectation: String, _ value: JSONValue?) -> NotionAPIError {
        .validation("body failed validation: \(field) \(expectation), instead was `\(shown(value))`.")
    }

    static let defaultAnnotations: [String: JSONValue] = [
        "bold": .bool(false), "italic": .bool(false), "strikethrough": .bool(false), "underline": .bool(false),
        "code": .bool(false), "color": .string("default"),
    ]

    /// One run of plain text, as Notion answers it.
    static func richText(_ content: String, link: String? = nil, annotations: [String: JSONValue] = defaultAnnotations)
        -> JSONValue
    {
        let linkJSON: JSONValue = link.map { .object(["url": .string($0)]) } ?? .null
        return .object([
            "type": .string("text"), "text": .object(["content": .string(content), "link": linkJSON]),
            "annotations": .object(annotations), "plain_text": .string(content), "href": link.map { .string($0) } ?? .null,
        ])
    }

    /// Rich text from a request, with the annotations, `plain_text` and `href` Notion adds.
    static func richText(_ input: JSONValue?, at field: String) throws(NotionAPIError) -> [JSONValue] {
        guard let items = input?.arrayValue else { throw invalidBody(field, "should be an array", input) }
        var result: [JSONValue] = []
        for (index, item) in items.enumerated() {
            let itemField = "\(field)[\(index)]"
            guard var fields = item.objectValue else { throw invalidBody(itemField, "should be an object", item) }
            var annotations = defaultAnnotations
            annotations.merge(fields["annotations"]?.objectValue ?? [:]) { $1 }
            let type = fields["type"]?.stringValue ?? ["text", "mention", "equation"].first { fields[$0] != nil }
            switch type {
            case "text":
                guard let content = fields["text"]?["content"]?.stringValue else {
                    throw invalidBody(itemField + ".text.content", "should be defined", fields["text"]?["content"])
                }
                // Notion counts as JavaScript does, in UTF-16 code units.
                guard content.utf16.count <= 2000 else {
                    throw .validation(
                        "body failed validation: \(itemField).text.content.length should be ≤ `2000`, instead was `\(content.utf16.count)`.")
                }
                result.append(richText(content, link: fields["text"]?["link"]?["url"]?.stringValue, annotations: annotations))
            case "equation":
                guard let expression = fields["equation"]?["expression"]?.stringValue else {
                    throw invalidBody(itemField + ".equation.expression", "should be defined", fields["equation"]?["expression"])
                }
                fields["type"] = .string("equation")
                fields["annotations"] = .object(annotations)
                fields["plain_text"] = .string(expression)
                fields["href"] = .null
                result.append(.object(fields))
            case "mention":
                fields["type"] = .string("mention")
                fields["annotations"] = .object(annotations)
                fields["plain_text"] = fields["plain_text"] ?? .string("")
                fields["href"] = fields["href"] ?? .null
                result.append(.object(fields))
            default:
                throw invalidBody(itemField, "should have one of `text`, `mention` or `equation`", item)
            }
        }
        return result
    }

    /// Every property type Notion's schemas know.
    static let propertyTypes: Set<String> = [
        "title", "rich_text", "number", "select", "multi_select", "status", "date", "people", "files", "checkbox",
        "url", "email", "phone_number", "formula", "relation", "rollup", "created_time", "created_by",
        "last_edited_time", "last_edited_by", "unique_id", "button", "place", "verification",
    ]

    /// A property's value on a page that has not set it.
    static func emptyValue(ofType type: String) -> JSONValue {
        switch type {
        case "title", "rich_text", "multi_select", "people", "relation", "files": .array([])
        case "checkbox": .bool(false)
        default: .null
        }
    }

    /// A page's schema: that of its data source, or the single `title` property every other page has.
    func schema(for parent: Parent) -> [String: JSONValue] {
        if case let .dataSource(id, _) = parent, let source = dataSources[id] {
            return source.properties
        }
        return ["title": .object(["id": .string("title"), "name": .string("title"), "type": .string("title"), "title": .object([:])])]
    }

    /// The schema entry a request names by property name or by id, percent-encoded as stored or
    /// not, or encoded twice (a client that encoded the stored id again for a path).
    static func schemaEntry(_ key: String, in schema: [String: JSONValue]) -> (name: String, entry: JSONValue)? {
        if let entry = schema[key] { return (key, entry) }
        let decodedKey = key.removingPercentEncoding ?? key
        return schema.first { _, entry in
            guard let id = entry["id"]?.stringValue else { return false }
            return id == key || id == decodedKey || (id.removingPercentEncoding ?? id) == decodedKey
        }.map { ($0.key, $0.value) }
    }

    /// Property values from a create or update request, by property name, completed as Notion
    /// stores them. A select option that does not exist yet is added to the data source's schema,
    /// as Notion does.
    mutating func propertyValues(_ input: JSONValue?, parent: Parent) throws(NotionAPIError) -> [String: JSONValue] {
        guard let input else { return [:] }
        guard let fields = input.objectValue else { throw Self.invalidBody("body.properties", "should be an object", input) }
        var schema = self.schema(for: parent)
        var values: [String: JSONValue] = [:]
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            guard let match = Self.schemaEntry(key, in: schema), let type = match.entry["type"]?.stringValue,
                let id = match.entry["id"]?.stringValue
            else {
                throw .validation("\(key) is not a property that exists.")
            }
            let name = match.name
            let field = "body.properties.\(name).\(type)"
            let given = value.objectValue?[type] ?? (type == "title" ? value : nil)
            guard let given else { throw Self.invalidBody(field, "should be defined", nil) }
            let normalized: JSONValue
            switch type {
            case "title", "rich_text":
                normalized = .array(try Self.richText(given, at: field))
            case "select", "status":
                normalized = given == .null ? .null : try Self.option(given, in: &schema[name]!, type: type, at: field)
            case "multi_select":
                guard let items = given.arrayValue else { throw Self.invalidBody(field, "should be an array", given) }
                var options: [JSONValue] = []
                for (index, item) in items.enumerated() {
                    options.append(try Self.option(item, in: &schema[name]!, type: type, at: "\(field)[\(index)]"))
                }
                normalized = .array(options)
            case "date":
                normalized = given == .null ? .null : try Self.date(given, at: field)
            default:
                normalized = given
            }
            values[name] = .object(["id": .string(id), "type": .string(type), type: normalized])
        }
        if case let .dataSource(id, _) = parent {
            dataSources[id]?.properties = schema
        }
        return values
    }

    /// A select, status or multi-select option named by `name` or `id`; a new name adds an option
    /// (not for status, whose options Notion keeps to its groups).
    private static func option(_ given: JSONValue, in entry: inout JSONValue, type: String, at field: String)
        throws(NotionAPIError) -> JSONValue
    {
        var configuration = entry[type]?.objectValue ?? [:]
        var options = configuration["options"]?.arrayValue ?? []
        let name = given["name"]?.stringValue
        let id = given["id"]?.stringValue
        if let existing = options.first(where: { (name != nil && $0["name"]?.stringValue == name) || (id != nil && $0["id"]?.stringValue == id) }) {
            return existing
        }
        guard let name, type != "status" else {
            throw invalidBody(field, "should name an existing option", given)
        }
        let option = JSONValue.object([
            "id": .string(FakeIDs.uuid()), "name": .string(name), "color": given["color"] ?? .string("default"),
        ])
        options.append(option)
        configuration["options"] = .array(options)
        guard case var .object(fields) = entry else { return option }
        fields[type] = .object(configuration)
        entry = .object(fields)
        return option
    }

    private static func date(_ given: JSONValue, at field: String) throws(NotionAPIError) -> JSONValue {
        guard let start = given["start"]?.stringValue else {
            throw invalidBody(field + ".start", "should be defined", given["start"])
        }
        return .object(["start": .string(start), "end": given["end"] ?? .null, "time_zone": given["time_zone"] ?? .null])
    }

    /// A schema entry from a create-database or update-data-source request:
    /// `{"select": {"options": [{"name": "Done"}]}}` becomes `{id, name, type, select: {options}}`.
    static func propertySchema(name: String, input: JSONValue, id: String?, at field: String) throws(NotionAPIError) -> JSONValue {
        guard let fields = input.objectValue else { throw invalidBody(field, "should be an object", input) }
        let type = fields["type"]?.stringValue ?? fields.keys.sorted().first { propertyTypes.contains($0) }
        guard let type, propertyTypes.contains(type) else {
            throw invalidBody(field, "should have a property type such as `title`, `rich_text` or `select`", input)
        }
        var configuration = fields[type]?.objectValue ?? [:]
        if ["select", "multi_select", "status"].contains(type) {
            let options = configuration["options"]?.arrayValue ?? []
            configuration["options"] = .array(
                options.map { option in
                    .object([
                        "id": option["id"] ?? .string(FakeIDs.uuid()), "name": option["name"] ?? .string(""),
                        "color": option["color"] ?? .string("default"), "description": .null,
                    ])
                })
        }
        // Notion's ids for new properties are short and percent-encoded; the title's is always `title`.
        let propertyID = id ?? (type == "title" ? "title" : FakeIDs.token(prefix: "", length: 4))
        return .object([
            "id": .string(propertyID), "name": .string(name), "type": .string(type), "description": .null,
            type: .object(configuration),
        ])
    }

    static let blockTypes: Set<String> = [
        "paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item", "numbered_list_item", "to_do",
        "toggle", "quote", "callout", "code", "divider", "bookmark", "equation", "image", "video", "file", "pdf",
        "audio", "embed", "table_of_contents", "breadcrumb", "column_list", "column", "table", "table_row",
        "link_to_page", "synced_block",
    ]

    /// Block types whose content has a text colour Notion fills in.
    private static let coloredBlockTypes: Set<String> = [
        "paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item", "numbered_list_item", "to_do",
        "toggle", "quote", "callout",
    ]

    /// A block from a request with the blocks nested in it, not stored yet.
    struct NewBlock {
        var block: Block
        var children: [NewBlock]
    }

    /// Blocks from an append or a page creation, checked whole before anything is stored.
    static func newBlocks(_ input: JSONValue?, under parent: Parent, at field: String, history: History)
        throws(NotionAPIError) -> [NewBlock]
    {
        guard let input else { return [] }
        guard let items = input.arrayValue else { throw invalidBody(field, "should be an array", input) }
        guard items.count <= 100 else {
            throw .validation("body failed validation: \(field).length should be ≤ `100`, instead was `\(items.count)`.")
        }
        var result: [NewBlock] = []
        for (index, item) in items.enumerated() {
            let itemField = "\(field)[\(index)]"
            let fields = item.objectValue ?? [:]
            let type = fields["type"]?.stringValue ?? fields.keys.sorted().first { blockTypes.contains($0) }
            guard let type, blockTypes.contains(type), var content = fields[type]?.objectValue else {
                throw invalidBody(itemField, "should be a block object such as `{\"paragraph\": {\"rich_text\": […]}}`", item)
            }
            let nested = content.removeValue(forKey: "children") ?? fields["children"]
            if content["rich_text"] != nil {
                content["rich_text"] = .array(try richText(content["rich_text"], at: "\(itemField).\(type).rich_text"))
            }
            if coloredBlockTypes.contains(type), content["color"] == nil {
                content["color"] = .string("default")
            }
            if type == "to_do", content["checked"] == nil {
                content["checked"] = .bool(false)
            }
            let block = Block(id: FakeIDs.uuid(), parent: parent, type: type, content: .object(content), history: history)
            let children = try newBlocks(nested, under: .block(block.id), at: "\(itemField).\(type).children", history: history)
            result.append(NewBlock(block: block, children: children))
        }
        return result
    }

    /// Stores new blocks under `containerID`, after the child `after` or at the end.
    mutating func insert(_ newBlocks: [NewBlock], into containerID: String, after: String? = nil) {
        var siblings = children[containerID] ?? []
        let position = after.flatMap { siblings.firstIndex(of: $0).map { $0 + 1 } } ?? siblings.endIndex
        siblings.insert(contentsOf: newBlocks.map(\.block.id), at: position)
        children[containerID] = siblings
        for new in newBlocks {
            blocks[new.block.id] = new.block
            insert(new.children, into: new.block.id)
        }
    }
}
