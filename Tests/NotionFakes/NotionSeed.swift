import Foundation
import NotionAuthCore

/// The content every fake Notion starts with, under ids that never change, so that tests and
/// scripts/bench can name it.
enum NotionSeed {
    /// "Roadmap", a top-level page; its block children are the 120 paragraphs.
    static let pageID = "54ccf0d4-4224-4c7d-a987-867c1513a0b5"
    /// "Launch plan", a page under Roadmap.
    static let childPageID = "9abed280-ab74-4743-88fb-b98743258f36"
    /// "Tasks", a database under Roadmap with a single data source.
    static let databaseID = "9223fa73-a981-4a74-8925-a2c20078aa5e"
    /// Tasks' data source: Name (title), Status (select: Not started, In progress, Done), Due (date).
    static let dataSourceID = "e28636f6-c392-49ff-b92e-a934d3e6f9b3"
    /// The data source's rows, in creation order: "Write the spec" (Done, due 2025-09-01),
    /// "Build the fake" (In progress, 2025-09-15), "Ship it" (Not started, 2025-10-01).
    static let taskIDs = [
        "1ecf5a88-e18e-4658-aabb-a1afe6d2066c", "1fae5e68-29a8-4b43-af21-36fda95060f6",
        "cd12a64e-1a2f-4c9f-a6db-4be7935a2018",
    ]
    /// Status's property id, percent-encoded as Notion's ids often are (`:?xy`).
    static let statusPropertyID = "%3A%3Fxy"
    /// Due's property id (`d;ue`).
    static let duePropertyID = "d%3Bue"
    static let paragraphCount = 120
    /// Roadmap's block children, "Paragraph 1" to "Paragraph 120": more than one page of results.
    static let paragraphIDs = (1...paragraphCount).map { "3c0b7a10-5e2d-4c8f-a6b1-" + String(format: "%012x", $0) }
    /// The first paragraph: a block to read, update and delete.
    static let blockID = paragraphIDs[0]
    /// "Can we ship this in Q3?" by the person, on Roadmap.
    static let commentID = "4bbe6184-4daa-947f-a3b0-ddfe2d990c01"
    static let discussionID = "bcb6be30-ad79-4d3c-8db4-be99852958ad"
    /// "Ada Lovelace", a person with an email address.
    static let personUserID = "bf486ee1-480a-4dcf-972e-f89fd4a51d66"
    static let personEmail = "ada@example.com"
    /// "Fake Integration", a bot.
    static let botUserID = "b70105b6-9dc3-4205-9bdc-dbd23ee64fd3"
    /// "Private notes": exists, but is not shared with the integration, so every request about it answers 404.
    static let unsharedPageID = "5b79f94b-4c15-4de7-80d2-996303449772"
    /// "Budget": needs a capability the integration lacks, so every request about it answers 403.
    static let restrictedPageID = "5941e88f-1382-484d-8a88-9b08f2c3fb5e"

    static let statusOptions: [(id: String, name: String, color: String)] = [
        ("4af56efa-50e1-4d8b-877f-20939f39744f", "Not started", "gray"),
        ("8c38a02a-98b2-4e5d-9e14-a710a756e410", "In progress", "blue"),
        ("033d8bd0-ffdb-4743-a26d-0f3c3708d68a", "Done", "green"),
    ]
}

extension NotionContent {
    /// The content `NotionSeed` names. Last-edit times differ, so that searches sorted by them
    /// have one order.
    static func seeded() -> NotionContent {
        var content = NotionContent()
        let person = NotionSeed.personUserID
        func history(edited day: Int) -> History {
            var history = History(at: "2025-09-01T09:00:00.000Z", by: person)
            history.edit(at: String(format: "2025-09-%02dT09:00:00.000Z", day), by: person)
            return history
        }
        func titled(_ name: String, key: String = "title") -> [String: JSONValue] {
            [key: .object(["id": .string("title"), "type": .string("title"), "title": .array([richText(name)])])]
        }
        func addPage(_ id: String, _ title: String, parent: Parent, edited day: Int) {
            content.pages[id] = Page(id: id, parent: parent, properties: titled(title), history: history(edited: day))
        }

        addPage(NotionSeed.pageID, "Roadmap", parent: .workspace, edited: 10)
        content.pages[NotionSeed.pageID]?.icon = .object(["type": .string("emoji"), "emoji": .string("🗺️")])
        addPage(NotionSeed.childPageID, "Launch plan", parent: .page(NotionSeed.pageID), edited: 11)
        addPage(NotionSeed.unsharedPageID, "Private notes", parent: .workspace, edited: 15)
        addPage(NotionSeed.restrictedPageID, "Budget", parent: .workspace, edited: 16)
        content.unsharedIDs = [NotionSeed.unsharedPageID]
        content.restrictedIDs = [NotionSeed.restrictedPageID]

        content.children[NotionSeed.pageID] = NotionSeed.paragraphIDs
        for (index, id) in NotionSeed.paragraphIDs.enumerated() {
            content.blocks[id] = Block(
                id: id, parent: .page(NotionSeed.pageID), type: "paragraph",
                content: .object(["rich_text": .array([richText("Paragraph \(index + 1)")]), "color": .string("default")]),
                history: history(edited: 8))
        }

        let tasks = [richText("Tasks")]
        content.databases[NotionSeed.databaseID] = Database(
            id: NotionSeed.databaseID, parent: .page(NotionSeed.pageID), title: tasks,
            dataSourceIDs: [NotionSeed.dataSourceID], history: history(edited: 9))
        let options = NotionSeed.statusOptions.map { option -> JSONValue in
            .object([
                "id": .string(option.id), "name": .string(option.name), "color": .string(option.color),
                "description": .null,
            ])
        }
        func schema(_ id: String, _ name: String, _ type: String, _ configuration: [String: JSONValue] = [:]) -> JSONValue {
            .object([
                "id": .string(id), "name": .string(name), "type": .string(type), "description": .null,
                type: .object(configuration),
            ])
        }
        content.dataSources[NotionSeed.dataSourceID] = DataSource(
            id: NotionSeed.dataSourceID, databaseID: NotionSeed.databaseID, title: tasks,
            properties: [
                "Name": schema("title", "Name", "title"),
                "Status": schema(NotionSeed.statusPropertyID, "Status", "select", ["options": .array(options)]),
                "Due": schema(NotionSeed.duePropertyID, "Due", "date"),
            ],
            rowIDs: NotionSeed.taskIDs, history: history(edited: 9))
        let rows = [("Write the spec", 2, "2025-09-01"), ("Build the fake", 1, "2025-09-15"), ("Ship it", 0, "2025-10-01")]
        for (index, (name, status, due)) in rows.enumerated() {
            var properties = titled(name, key: "Name")
            properties["Status"] = .object([
                "id": .string(NotionSeed.statusPropertyID), "type": .string("select"), "select": options[status],
            ])
            properties["Due"] = .object([
                "id": .string(NotionSeed.duePropertyID), "type": .string("date"),
                "date": .object(["start": .string(due), "end": .null, "time_zone": .null]),
            ])
            let id = NotionSeed.taskIDs[index]
            content.pages[id] = Page(
                id: id, parent: .dataSource(NotionSeed.dataSourceID, databaseID: NotionSeed.databaseID),
                properties: properties, history: history(edited: 12 + index))
        }

        content.comments = [
            Comment(
                id: NotionSeed.commentID, parent: .page(NotionSeed.pageID), discussionID: NotionSeed.discussionID,
                richText: [richText("Can we ship this in Q3?")], history: history(edited: 10))
        ]
        content.users = [
            .object([
                "object": .string("user"), "id": .string(person), "type": .string("person"),
                "name": .string("Ada Lovelace"), "avatar_url": .null,
                "person": .object(["email": .string(NotionSeed.personEmail)]),
            ]),
            .object([
                "object": .string("user"), "id": .string(NotionSeed.botUserID), "type": .string("bot"),
                "name": .string("Fake Integration"), "avatar_url": .null, "bot": .object([:]),
            ]),
        ]
        return content
    }
}
