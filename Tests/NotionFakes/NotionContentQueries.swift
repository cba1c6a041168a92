import Foundation
import NotionAuthCore

/// The content API's reads that select or order: search, data source queries, property items
/// and comments.
extension NotionContent {
    /// Pages and data sources whose title contains `query`, ignoring case, ordered by last edit
    /// (newest first unless `ascending`). Trashed and hidden pages are left out, as the
    /// integration cannot see them.
    func search(query: String, object: String?, ascending: Bool) -> [JSONValue] {
        var found: [(edited: String, id: String, json: JSONValue)] = []
        func matches(_ title: String) -> Bool {
            query.isEmpty || title.range(of: query, options: .caseInsensitive) != nil
        }
        if object != "data_source" {
            for page in pages.values
            where !page.inTrash && !unsharedIDs.contains(page.id) && !restrictedIDs.contains(page.id) && matches(title(of: page)) {
                found.append((page.history.lastEditedTime, page.id, json(page)))
            }
        }
        if object != "page" {
            for source in dataSources.values where !source.inTrash && matches(Self.plainText(source.title)) {
                found.append((source.history.lastEditedTime, source.id, json(source)))
            }
        }
        found.sort { ($0.edited, $0.id) < ($1.edited, $1.id) }
        return (ascending ? found : found.reversed()).map(\.json)
    }

    /// A data source's rows that pass `filter`, in the order `sorts` gives (creation order without).
    ///
    /// Filters on select, status, title, rich text and date properties are applied, nested in
    /// `and`/`or` as deep as given; other filter shapes (timestamps, numbers…) let every row through.
    func rows(of id: String, filter: JSONValue?, sorts: JSONValue?) throws(NotionAPIError) -> [Page] {
        let source = try dataSource(id)
        var rows = source.rowIDs.compactMap { pages[$0] }.filter { !$0.inTrash }
        if let filter, filter != .null {
            var kept: [Page] = []
            for row in rows {
                if try passes(row, filter, schema: source.properties) { kept.append(row) }
            }
            rows = kept
        }
        guard let sorts, sorts != .null else { return rows }
        guard let sortList = sorts.arrayValue else { throw Self.invalidBody("body.sorts", "should be an array", sorts) }
        var keys: [(value: (Page) -> String, descending: Bool)] = []
        for (index, sort) in sortList.enumerated() {
            let descending = sort["direction"]?.stringValue == "descending"
            if let timestamp = sort["timestamp"]?.stringValue {
                guard ["created_time", "last_edited_time"].contains(timestamp) else {
                    throw Self.invalidBody("body.sorts[\(index)].timestamp", "should be `created_time` or `last_edited_time`", sort["timestamp"])
                }
                keys.append(({ timestamp == "created_time" ? $0.history.createdTime : $0.history.lastEditedTime }, descending))
            } else if let property = sort["property"]?.stringValue {
                guard let match = Self.schemaEntry(property, in: source.properties) else {
                    throw .validation("Could not find sort property with name or id: \(property)")
                }
                keys.append(({ Self.comparableText($0.properties[match.name]) }, descending))
            } else {
                throw Self.invalidBody("body.sorts[\(index)]", "should have `property` or `timestamp`", sort)
            }
        }
        return rows.enumerated().sorted { first, second in
            for key in keys {
                let (a, b) = (key.value(first.element), key.value(second.element))
                if a != b { return key.descending ? a > b : a < b }
            }
            return first.offset < second.offset
        }.map(\.element)
    }

    private func passes(_ page: Page, _ filter: JSONValue, schema: [String: JSONValue]) throws(NotionAPIError) -> Bool {
        if let all = filter["and"]?.arrayValue {
            for part in all {
                if try !passes(page, part, schema: schema) { return false }
            }
            return true
        }
        if let any = filter["or"]?.arrayValue {
            for part in any {
                if try passes(page, part, schema: schema) { return true }
            }
            return false
        }
        guard let property = filter["property"]?.stringValue else { return true }
        guard let match = Self.schemaEntry(property, in: schema) else {
            throw .validation("Could not find property with name or id: \(property)")
        }
        let text = Self.comparableText(page.properties[match.name])
        for type in ["select", "status", "title", "rich_text"] {
            if let condition = filter[type] { return Self.test(text, condition) }
        }
        if let condition = filter["date"] {
            return Self.test(text, condition, daysOnly: true)
        }
        return true
    }

    /// A property value as text to filter and sort on: plain text, an option's name, a date's start.
    static func comparableText(_ value: JSONValue?) -> String {
        guard let type = value?["type"]?.stringValue, let content = value?[type] else { return "" }
        switch content {
        case let .array(items) where type == "title" || type == "rich_text": return plainText(items)
        case let .string(text): return text
        case let .int(number): return String(number)
        case let .double(number): return String(number)
        case let .bool(flag): return String(flag)
        default: return content["name"]?.stringValue ?? content["start"]?.stringValue ?? ""
        }
    }

    /// One filter condition (`{"equals": "Done"}`) against a value as text; `daysOnly` compares
    /// dates by day, as a date condition may name a day and a stored start may carry a time.
    private static func test(_ value: String, _ condition: JSONValue, daysOnly: Bool = false) -> Bool {
        guard let (operation, operand) = condition.objectValue?.first.map({ ($0.key, $0.value.stringValue ?? "") }) else {
            return true
        }
        let text = daysOnly ? String(value.prefix(10)) : value
        let other = daysOnly ? String(operand.prefix(10)) : operand
        switch operation {
        case "equals": return text == other
        case "does_not_equal": return text != other
        case "contains": return text.range(of: other, options: .caseInsensitive) != nil
        case "does_not_contain": return text.range(of: other, options: .caseInsensitive) == nil
        case "starts_with": return text.lowercased().hasPrefix(other.lowercased())
        case "ends_with": return text.lowercased().hasSuffix(other.lowercased())
        case "is_empty": return text.isEmpty
        case "is_not_empty": return !text.isEmpty
        case "before": return !text.isEmpty && text < other
        case "after": return text > other
        case "on_or_before": return !text.isEmpty && text <= other
        case "on_or_after": return text >= other
        default: return true
        }
    }

    enum PropertyItems {
        case single(JSONValue)
        /// Title, rich text, people and relation values come as a paginated list of items.
        case list([JSONValue], id: String, type: String)
    }

    func propertyItems(pageID: String, propertyID: String) throws(NotionAPIError) -> PropertyItems {
        let page = try page(pageID)
        guard let match = Self.schemaEntry(propertyID, in: page.properties),
            let type = match.entry["type"]?.stringValue, let id = match.entry["id"]?.stringValue
        else {
            throw .objectNotFound(.property, propertyID)
        }
        let value = match.entry[type] ?? .null
        func item(_ content: JSONValue) -> JSONValue {
            .object(["object": .string("property_item"), "id": .string(id), "type": .string(type), type: content])
        }
        guard ["title", "rich_text", "people", "relation"].contains(type) else { return .single(item(value)) }
        return .list((value.arrayValue ?? []).map(item), id: id, type: type)
    }

    /// The comments on a page or block, oldest first.
    func comments(on id: String) throws(NotionAPIError) -> [JSONValue] {
        let parent = try container(id)
        return comments.filter { $0.parent == parent }.map(json)
    }
}
