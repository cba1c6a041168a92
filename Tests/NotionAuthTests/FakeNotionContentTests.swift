@testable import NotionFakes
import Foundation
import NIOHTTP1
import NotionAuthCore
import Testing

private let integrationToken = "ntn_content_test_token_0001"
private let botID = "0f0e0d0c-0b0a-4908-8706-050403020100"

/// A fake Notion that knows one internal integration token, and requests made with it.
private struct Integration {
    let server: FakeNotionServer

    func call(_ method: HTTPMethod, _ path: String, _ body: String? = nil, token: String = integrationToken) async throws -> Reply {
        var headers = [("Authorization", "Bearer \(token)"), ("Notion-Version", "2025-09-03")]
        if body != nil {
            headers.append(("Content-Type", "application/json"))
        }
        return try await send(method, server.baseURL + path, headers: headers, body: body)
    }

    /// Follows `next_cursor` from the first page to the last; `path` takes the cursor as a query parameter.
    func collect(_ path: String, pageSize: Int) async throws -> (results: [JSONValue], pages: Int) {
        var results: [JSONValue] = []
        var cursor: String?
        var pages = 0
        repeat {
            let separator = path.contains("?") ? "&" : "?"
            let reply = try await call(.GET, path + separator + "page_size=\(pageSize)" + (cursor.map { "&start_cursor=\($0)" } ?? ""))
            try #require(reply.status == 200)
            results += reply.value["results"]?.arrayValue ?? []
            cursor = reply.value["next_cursor"]?.stringValue
            pages += 1
        } while cursor != nil && pages < 20
        return (results, pages)
    }
}

private func withIntegration(_ body: (Integration) async throws -> Void) async throws {
    let server = try await FakeNotionServer.start()
    defer { server.stopNow() }
    server.addInternalToken(integrationToken, botID: botID, workspaceName: "Acme")
    try await body(Integration(server: server))
}

private func ids(_ reply: Reply) -> [String] {
    (reply.value["results"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
}

private func plainText(_ richText: JSONValue?) -> String {
    NotionContent.plainText(richText?.arrayValue ?? [])
}

/// Expects Notion's error object with this status and code, and hands back its message.
@discardableResult
private func expectError(_ reply: Reply, _ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    #expect(reply.status == status, "\(String(decoding: reply.body, as: UTF8.self))", sourceLocation: sourceLocation)
    #expect(reply.value["object"]?.stringValue == "error", sourceLocation: sourceLocation)
    #expect(reply.value["status"]?.int64Value == Int64(status), sourceLocation: sourceLocation)
    #expect(reply.value["code"]?.stringValue == code, sourceLocation: sourceLocation)
    #expect(reply.value["request_id"]?.stringValue != nil, sourceLocation: sourceLocation)
    return reply.value["message"]?.stringValue ?? ""
}

@Suite struct FakeNotionContentTests {
    @Test func seedConstantsNameTheSeededPagesDatabaseAndDataSource() async throws {
        try await withIntegration { notion in
            let roadmap = try await notion.call(.GET, "/v1/pages/\(NotionSeed.pageID)")
            #expect(roadmap.status == 200)
            #expect(roadmap.value["object"]?.stringValue == "page")
            #expect(roadmap.value["id"]?.stringValue == NotionSeed.pageID)
            #expect(roadmap.value["parent"]?["type"]?.stringValue == "workspace")
            #expect(roadmap.value["in_trash"]?.boolValue == false)
            #expect(plainText(roadmap.value["properties"]?["title"]?["title"]) == "Roadmap")
            #expect(roadmap.value["url"]?.stringValue?.hasSuffix(NotionSeed.pageID.replacingOccurrences(of: "-", with: "")) == true)

            let child = try await notion.call(.GET, "/v1/pages/\(NotionSeed.childPageID)")
            #expect(child.value["parent"]?["page_id"]?.stringValue == NotionSeed.pageID)

            let database = try await notion.call(.GET, "/v1/databases/\(NotionSeed.databaseID)")
            #expect(database.value["object"]?.stringValue == "database")
            #expect(database.value["parent"]?["page_id"]?.stringValue == NotionSeed.pageID)
            let sources = database.value["data_sources"]?.arrayValue ?? []
            #expect(sources.map { $0["id"]?.stringValue } == [NotionSeed.dataSourceID])
            #expect(sources.first?["name"]?.stringValue == "Tasks")

            let source = try await notion.call(.GET, "/v1/data_sources/\(NotionSeed.dataSourceID)")
            #expect(source.value["object"]?.stringValue == "data_source")
            #expect(source.value["parent"]?["database_id"]?.stringValue == NotionSeed.databaseID)
            let schema = try #require(source.value["properties"]?.objectValue)
            #expect(schema.keys.sorted() == ["Due", "Name", "Status"])
            #expect(schema["Name"]?["type"]?.stringValue == "title")
            #expect(schema["Name"]?["id"]?.stringValue == "title")
            #expect(schema["Status"]?["type"]?.stringValue == "select")
            #expect(schema["Status"]?["id"]?.stringValue == NotionSeed.statusPropertyID)
            #expect(schema["Status"]?["select"]?["options"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Not started", "In progress", "Done"])
            #expect(schema["Due"]?["type"]?.stringValue == "date")
            #expect(schema["Due"]?["id"]?.stringValue == NotionSeed.duePropertyID)

            var names: [String] = []
            for taskID in NotionSeed.taskIDs {
                let task = try await notion.call(.GET, "/v1/pages/\(taskID)")
                #expect(task.value["parent"]?["type"]?.stringValue == "data_source_id")
                #expect(task.value["parent"]?["data_source_id"]?.stringValue == NotionSeed.dataSourceID)
                #expect(task.value["parent"]?["database_id"]?.stringValue == NotionSeed.databaseID)
                names.append(plainText(task.value["properties"]?["Name"]?["title"]))
            }
            #expect(names == ["Write the spec", "Build the fake", "Ship it"])
        }
    }

    @Test func seedConstantsNameTheSeededBlockCommentAndUsers() async throws {
        try await withIntegration { notion in
            let block = try await notion.call(.GET, "/v1/blocks/\(NotionSeed.blockID)")
            #expect(block.status == 200)
            #expect(block.value["object"]?.stringValue == "block")
            #expect(block.value["type"]?.stringValue == "paragraph")
            #expect(block.value["parent"]?["page_id"]?.stringValue == NotionSeed.pageID)
            #expect(plainText(block.value["paragraph"]?["rich_text"]) == "Paragraph 1")
            #expect(block.value["has_children"]?.boolValue == false)

            let pageAsBlock = try await notion.call(.GET, "/v1/blocks/\(NotionSeed.pageID)")
            #expect(pageAsBlock.value["type"]?.stringValue == "child_page")
            #expect(pageAsBlock.value["child_page"]?["title"]?.stringValue == "Roadmap")
            #expect(pageAsBlock.value["has_children"]?.boolValue == true)

            let comment = try await notion.call(.GET, "/v1/comments/\(NotionSeed.commentID)")
            #expect(comment.status == 200)
            #expect(comment.value["object"]?.stringValue == "comment")
            #expect(comment.value["discussion_id"]?.stringValue == NotionSeed.discussionID)
            #expect(comment.value["parent"]?["page_id"]?.stringValue == NotionSeed.pageID)
            #expect(comment.value["created_by"]?["id"]?.stringValue == NotionSeed.personUserID)

            let person = try await notion.call(.GET, "/v1/users/\(NotionSeed.personUserID)")
            #expect(person.value["type"]?.stringValue == "person")
            #expect(person.value["person"]?["email"]?.stringValue == NotionSeed.personEmail)
            let bot = try await notion.call(.GET, "/v1/users/\(NotionSeed.botUserID)")
            #expect(bot.value["type"]?.stringValue == "bot")
            #expect(bot.value["bot"]?.objectValue != nil)
        }
    }

    @Test func idsWithoutHyphensOrInCapitalsAreAnsweredHyphenated() async throws {
        try await withIntegration { notion in
            let bare = NotionSeed.pageID.replacingOccurrences(of: "-", with: "")
            for id in [bare, bare.uppercased()] {
                let page = try await notion.call(.GET, "/v1/pages/\(id)")
                #expect(page.status == 200)
                #expect(page.value["id"]?.stringValue == NotionSeed.pageID)
            }
            let query = try await notion.call(.POST, "/v1/data_sources/\(NotionSeed.dataSourceID.replacingOccurrences(of: "-", with: ""))/query", "{}")
            #expect(ids(query) == NotionSeed.taskIDs)
        }
    }

    @Test func blockChildrenComeAsAPageOf100ThenThe20Left() async throws {
        try await withIntegration { notion in
            let first = try await notion.call(.GET, "/v1/blocks/\(NotionSeed.pageID)/children")
            #expect(first.status == 200)
            #expect(first.value["object"]?.stringValue == "list")
            #expect(first.value["type"]?.stringValue == "block")
            #expect(first.value["block"]?.objectValue?.isEmpty == true)
            #expect(first.value["request_id"]?.stringValue != nil)
            #expect(ids(first) == Array(NotionSeed.paragraphIDs.prefix(100)))
            #expect(first.value["has_more"]?.boolValue == true)
            let cursor = try #require(first.value["next_cursor"]?.stringValue)

            let second = try await notion.call(.GET, "/v1/blocks/\(NotionSeed.pageID)/children?start_cursor=\(cursor)")
            #expect(ids(second) == Array(NotionSeed.paragraphIDs.suffix(20)))
            #expect(second.value["has_more"]?.boolValue == false)
            #expect(second.value["next_cursor"] == .null)

            let inFifties = try await notion.collect("/v1/blocks/\(NotionSeed.pageID)/children", pageSize: 50)
            #expect(inFifties.pages == 3)
            #expect(inFifties.results.compactMap { $0["id"]?.stringValue } == NotionSeed.paragraphIDs)
        }
    }

    @Test func pageSizeAbove100OrBelow1AndUnknownCursorsAreValidationErrors() async throws {
        try await withIntegration { notion in
            let children = "/v1/blocks/\(NotionSeed.pageID)/children"
            let tooLarge = expectError(try await notion.call(.GET, children + "?page_size=101"), 400, "validation_error")
            #expect(tooLarge.contains("page_size should be ≤ `100`"))
            expectError(try await notion.call(.GET, children + "?page_size=0"), 400, "validation_error")
            expectError(try await notion.call(.GET, children + "?page_size=ten"), 400, "validation_error")
            expectError(try await notion.call(.GET, children + "?start_cursor=not-a-cursor"), 400, "validation_error")
            expectError(try await notion.call(.POST, "/v1/search", #"{"page_size":101}"#), 400, "validation_error")
            #expect(try await notion.call(.GET, children + "?page_size=100").status == 200)
        }
    }

    @Test func searchMatchesTitlesIgnoringCaseAndLeavesHiddenPagesOut() async throws {
        try await withIntegration { notion in
            let roadmap = try await notion.call(.POST, "/v1/search", #"{"query":"rOADMAP"}"#)
            #expect(roadmap.status == 200)
            #expect(ids(roadmap) == [NotionSeed.pageID])
            #expect(roadmap.value["type"]?.stringValue == "page_or_data_source")

            let pages = try await notion.call(.POST, "/v1/search", #"{"filter":{"property":"object","value":"page"}}"#)
            #expect(Set(ids(pages)) == Set([NotionSeed.pageID, NotionSeed.childPageID] + NotionSeed.taskIDs))
            #expect(pages.value["results"]?.arrayValue?.allSatisfy { $0["object"]?.stringValue == "page" } == true)

            let sources = try await notion.call(.POST, "/v1/search", #"{"filter":{"property":"object","value":"data_source"}}"#)
            #expect(ids(sources) == [NotionSeed.dataSourceID])

            let hidden = try await notion.call(.POST, "/v1/search", #"{"query":"notes"}"#)
            #expect(ids(hidden).isEmpty, "Private notes is not shared with the integration")
            expectError(
                try await notion.call(.POST, "/v1/search", #"{"filter":{"property":"object","value":"database"}}"#), 400,
                "validation_error")
        }
    }

    @Test func searchSortsByLastEditAndPaginates() async throws {
        try await withIntegration { notion in
            let newestFirst = try await notion.call(.POST, "/v1/search", "{}")
            let expected = Array(NotionSeed.taskIDs.reversed()) + [NotionSeed.childPageID, NotionSeed.pageID, NotionSeed.dataSourceID]
            #expect(ids(newestFirst) == expected)
            let oldestFirst = try await notion.call(
                .POST, "/v1/search", #"{"sort":{"direction":"ascending","timestamp":"last_edited_time"}}"#)
            #expect(ids(oldestFirst) == Array(expected.reversed()))

            let firstTwo = try await notion.call(.POST, "/v1/search", #"{"page_size":2}"#)
            #expect(ids(firstTwo) == Array(expected.prefix(2)))
            let cursor = try #require(firstTwo.value["next_cursor"]?.stringValue)
            let rest = try await notion.call(.POST, "/v1/search", #"{"page_size":10,"start_cursor":"\#(cursor)"}"#)
            #expect(ids(rest) == Array(expected.dropFirst(2)))
            #expect(rest.value["has_more"]?.boolValue == false)
        }
    }

    @Test func malformedMissingUnsharedAndRestrictedIDsAnswerAsNotion() async throws {
        try await withIntegration { notion in
            let malformed = expectError(try await notion.call(.GET, "/v1/pages/not-a-uuid"), 400, "validation_error")
            #expect(malformed.hasPrefix("path failed validation: path.page_id should be a valid uuid, instead was `"))
            #expect(malformed.contains("not-a-uuid"))
            let blockMessage = expectError(try await notion.call(.GET, "/v1/blocks/1234/children"), 400, "validation_error")
            #expect(blockMessage.hasPrefix("path failed validation: path.block_id should be a valid uuid"))

            let unknown = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"
            let missing = expectError(try await notion.call(.GET, "/v1/pages/\(unknown)"), 404, "object_not_found")
            #expect(missing.hasPrefix("Could not find page with ID: \(unknown)."))

            let unshared = expectError(try await notion.call(.GET, "/v1/pages/\(NotionSeed.unsharedPageID)"), 404, "object_not_found")
            #expect(
                unshared
                    == "Could not find page with ID: \(NotionSeed.unsharedPageID). Make sure the relevant pages and databases are shared with your integration."
            )
            expectError(try await notion.call(.PATCH, "/v1/pages/\(NotionSeed.unsharedPageID)", #"{"in_trash":true}"#), 404, "object_not_found")
            expectError(try await notion.call(.GET, "/v1/blocks/\(NotionSeed.unsharedPageID)/children"), 404, "object_not_found")
            expectError(try await notion.call(.GET, "/v1/comments?block_id=\(NotionSeed.unsharedPageID)"), 404, "object_not_found")
            expectError(
                try await notion.call(.POST, "/v1/pages", #"{"parent":{"page_id":"\#(NotionSeed.unsharedPageID)"},"properties":{}}"#), 404,
                "object_not_found")

            let restricted = expectError(try await notion.call(.GET, "/v1/pages/\(NotionSeed.restrictedPageID)"), 403, "restricted_resource")
            #expect(restricted == "Insufficient permissions for this endpoint.")
            expectError(try await notion.call(.GET, "/v1/blocks/\(NotionSeed.restrictedPageID)/children"), 403, "restricted_resource")
        }
    }

    @Test func wrongMethodsBadJSONAndUnknownPathsAnswerAsNotion() async throws {
        try await withIntegration { notion in
            let wrongMethod = try await notion.call(.DELETE, "/v1/pages/\(NotionSeed.pageID)")
            expectError(wrongMethod, 405, "invalid_request_url")
            #expect(wrongMethod.headers.first(name: "allow") == "GET, PATCH")
            expectError(try await notion.call(.POST, "/v1/pages", #"{"parent":"#), 400, "invalid_json")
            let noParent = expectError(try await notion.call(.POST, "/v1/pages", #"{"properties":{}}"#), 400, "validation_error")
            #expect(noParent.contains("body.parent should be defined"))
            expectError(try await notion.call(.GET, "/v1/pages/\(NotionSeed.pageID)/comments"), 400, "invalid_request_url")
            expectError(try await notion.call(.GET, "/v1/pages/\(NotionSeed.pageID)", token: "ntn_unknown"), 401, "unauthorized")

            let outside = try await notion.call(.GET, "/v1/file_uploads?x=1")
            #expect(outside.status == 200)
            #expect(outside.value["object"]?.stringValue == "echo")
            #expect(outside.value["path"]?.stringValue == "/v1/file_uploads?x=1")
        }
    }

    @Test func rateLimitNextAnswers429WithRetryAfterOnlyToAuthenticatedRequests() async throws {
        try await withIntegration { notion in
            notion.server.rateLimitNext(count: 2, retryAfterSeconds: 7)
            expectError(try await notion.call(.GET, "/v1/pages/\(NotionSeed.pageID)", token: "ntn_unknown"), 401, "unauthorized")
            for path in ["/v1/pages/\(NotionSeed.pageID)", "/v1/users"] {
                let limited = try await notion.call(.GET, path)
                expectError(limited, 429, "rate_limited")
                #expect(limited.headers.first(name: "retry-after") == "7")
            }
            let served = try await notion.call(.GET, "/v1/pages/\(NotionSeed.pageID)")
            #expect(served.status == 200)
            #expect(served.headers.first(name: "retry-after") == nil)
            #expect(notion.server.requestCount(path: "/v1/pages/\(NotionSeed.pageID)") == 3)
        }
    }

    @Test func aCreatedPageCanBeReadQueriedUpdatedAndTrashed() async throws {
        try await withIntegration { notion in
            let bareSource = NotionSeed.dataSourceID.replacingOccurrences(of: "-", with: "")
            let created = try await notion.call(
                .POST, "/v1/pages",
                #"""
                {"parent":{"data_source_id":"\#(bareSource)"},
                 "properties":{"Name":{"title":[{"text":{"content":"Write tests"}}]},"Status":{"select":{"name":"Done"}}},
                 "children":[{"paragraph":{"rich_text":[{"text":{"content":"First step"}}]}}],
                 "icon":{"type":"emoji","emoji":"✅"}}
                """#)
            #expect(created.status == 200, "\(String(decoding: created.body, as: UTF8.self))")
            let id = try #require(created.value["id"]?.stringValue)
            #expect(created.value["parent"]?["data_source_id"]?.stringValue == NotionSeed.dataSourceID)
            #expect(created.value["created_by"]?["id"]?.stringValue == botID)
            #expect(created.value["properties"]?["Status"]?["select"]?["id"]?.stringValue == NotionSeed.statusOptions[2].id)
            #expect(created.value["properties"]?["Due"]?["date"] == .null)

            let fetched = try await notion.call(.GET, "/v1/pages/\(id)")
            #expect(fetched.status == 200)
            #expect(plainText(fetched.value["properties"]?["Name"]?["title"]) == "Write tests")
            #expect(fetched.value["icon"]?["emoji"]?.stringValue == "✅")
            let children = try await notion.call(.GET, "/v1/blocks/\(id)/children")
            #expect(children.value["results"]?.arrayValue?.map { plainText($0["paragraph"]?["rich_text"]) } == ["First step"])

            let done = #"{"filter":{"property":"Status","select":{"equals":"Done"}}}"#
            #expect(ids(try await notion.call(.POST, "/v1/data_sources/\(NotionSeed.dataSourceID)/query", done)) == [NotionSeed.taskIDs[0], id])
            let moved = try await notion.call(.PATCH, "/v1/pages/\(id)", #"{"properties":{"Status":{"select":{"name":"In progress"}}}}"#)
            #expect(moved.value["properties"]?["Status"]?["select"]?["name"]?.stringValue == "In progress")
            #expect(ids(try await notion.call(.POST, "/v1/data_sources/\(NotionSeed.dataSourceID)/query", done)) == [NotionSeed.taskIDs[0]])
            let blocked = try await notion.call(.PATCH, "/v1/pages/\(id)", #"{"properties":{"Status":{"select":{"name":"Blocked"}}}}"#)
            #expect(blocked.status == 200)
            let schema = try await notion.call(.GET, "/v1/data_sources/\(NotionSeed.dataSourceID)")
            let options = schema.value["properties"]?["Status"]?["select"]?["options"]?.arrayValue ?? []
            #expect(options.compactMap { $0["name"]?.stringValue } == ["Not started", "In progress", "Done", "Blocked"], "a new name adds an option")

            let trashed = try await notion.call(.PATCH, "/v1/pages/\(id)", #"{"in_trash":true}"#)
            #expect(trashed.value["in_trash"]?.boolValue == true)
            #expect(ids(try await notion.call(.POST, "/v1/search", #"{"query":"write tests"}"#)).isEmpty)
            expectError(
                try await notion.call(.PATCH, "/v1/pages/\(id)", #"{"properties":{"Name":{"title":[]}}}"#), 400, "validation_error")
        }
    }

    @Test func aPageUnderAPageGetsItsTitleAndUnknownPropertiesAreRefused() async throws {
        try await withIntegration { notion in
            let created = try await notion.call(
                .POST, "/v1/pages",
                #"{"parent":{"page_id":"\#(NotionSeed.pageID)"},"properties":{"title":[{"text":{"content":"Retro"}}]}}"#)
            #expect(created.status == 200)
            #expect(created.value["parent"]?["page_id"]?.stringValue == NotionSeed.pageID)
            #expect(plainText(created.value["properties"]?["title"]?["title"]) == "Retro")
            let id = try #require(created.value["id"]?.stringValue)
            #expect(ids(try await notion.call(.POST, "/v1/search", #"{"query":"retro"}"#)) == [id])

            let unknown = expectError(
                try await notion.call(
                    .POST, "/v1/pages",
                    #"{"parent":{"data_source_id":"\#(NotionSeed.dataSourceID)"},"properties":{"Owner":{"rich_text":[]}}}"#),
                400, "validation_error")
            #expect(unknown == "Owner is not a property that exists.")
        }
    }

    @Test func appendedBlocksShowInChildrenWhereAsked() async throws {
        try await withIntegration { notion in
            let appended = try await notion.call(
                .PATCH, "/v1/blocks/\(NotionSeed.pageID)/children",
                #"{"after":"\#(NotionSeed.paragraphIDs[0])","children":[{"type":"to_do","to_do":{"rich_text":[{"text":{"content":"Check"}}]}}]}"#)
            #expect(appended.status == 200)
            let new = try #require(appended.value["results"]?.arrayValue?.first)
            let newID = try #require(new["id"]?.stringValue)
            #expect(new["to_do"]?["checked"]?.boolValue == false)

            let head = try await notion.call(.GET, "/v1/blocks/\(NotionSeed.pageID)/children?page_size=3")
            #expect(ids(head) == [NotionSeed.paragraphIDs[0], newID, NotionSeed.paragraphIDs[1]])
            let all = try await notion.collect("/v1/blocks/\(NotionSeed.pageID)/children", pageSize: 100)
            #expect(all.results.count == NotionSeed.paragraphCount + 1)

            let edited = try await notion.call(
                .PATCH, "/v1/blocks/\(NotionSeed.blockID)", #"{"paragraph":{"rich_text":[{"text":{"content":"Edited"}}]}}"#)
            #expect(plainText(edited.value["paragraph"]?["rich_text"]) == "Edited")
            expectError(
                try await notion.call(.PATCH, "/v1/blocks/\(NotionSeed.blockID)", #"{"heading_1":{"rich_text":[]}}"#), 400,
                "validation_error")
            let deleted = try await notion.call(.DELETE, "/v1/blocks/\(NotionSeed.blockID)")
            #expect(deleted.value["in_trash"]?.boolValue == true)
            let afterDelete = try await notion.call(.GET, "/v1/blocks/\(NotionSeed.pageID)/children?page_size=1")
            #expect(ids(afterDelete) == [newID])
        }
    }

    @Test func dataSourceQueriesFilterOnStatusAndSortOnDue() async throws {
        try await withIntegration { notion in
            let query = "/v1/data_sources/\(NotionSeed.dataSourceID)/query"
            let inProgress = try await notion.call(.POST, query, #"{"filter":{"property":"Status","select":{"equals":"In progress"}}}"#)
            #expect(inProgress.status == 200)
            #expect(inProgress.value["type"]?.stringValue == "page_or_data_source")
            #expect(ids(inProgress) == [NotionSeed.taskIDs[1]])
            let byID = try await notion.call(
                .POST, query, #"{"filter":{"property":"\#(NotionSeed.statusPropertyID)","select":{"does_not_equal":"Done"}}}"#)
            #expect(ids(byID) == Array(NotionSeed.taskIDs.dropFirst()))
            let latestDue = try await notion.call(.POST, query, #"{"sorts":[{"property":"Due","direction":"descending"}]}"#)
            #expect(ids(latestDue) == Array(NotionSeed.taskIDs.reversed()))
            let firstPage = try await notion.call(.POST, query, #"{"page_size":1}"#)
            #expect(ids(firstPage) == [NotionSeed.taskIDs[0]])
            #expect(firstPage.value["has_more"]?.boolValue == true)
            expectError(
                try await notion.call(.POST, query, #"{"filter":{"property":"Owner","select":{"equals":"x"}}}"#), 400, "validation_error")
        }
    }

    @Test func propertyItemsComeAsAListForTitlesAndAsOneItemForSelects() async throws {
        try await withIntegration { notion in
            let task = NotionSeed.taskIDs[0]
            let title = try await notion.call(.GET, "/v1/pages/\(task)/properties/title")
            #expect(title.status == 200)
            #expect(title.value["object"]?.stringValue == "list")
            #expect(title.value["type"]?.stringValue == "property_item")
            #expect(title.value["property_item"]?["type"]?.stringValue == "title")
            let item = try #require(title.value["results"]?.arrayValue?.first)
            #expect(item["object"]?.stringValue == "property_item")
            #expect(item["title"]?["plain_text"]?.stringValue == "Write the spec")

            let status = try await notion.call(.GET, "/v1/pages/\(task)/properties/\(NotionSeed.statusPropertyID)")
            #expect(status.value["object"]?.stringValue == "property_item")
            #expect(status.value["select"]?["name"]?.stringValue == "Done")
            expectError(try await notion.call(.GET, "/v1/pages/\(task)/properties/nope"), 404, "object_not_found")
        }
    }

    @Test func commentsAreListedByBlockAndRepliesJoinTheirDiscussion() async throws {
        try await withIntegration { notion in
            let before = try await notion.call(.GET, "/v1/comments?block_id=\(NotionSeed.pageID)")
            #expect(before.value["type"]?.stringValue == "comment")
            #expect(ids(before) == [NotionSeed.commentID])

            let reply = try await notion.call(
                .POST, "/v1/comments", #"{"discussion_id":"\#(NotionSeed.discussionID)","rich_text":[{"text":{"content":"Yes"}}]}"#)
            #expect(reply.status == 200)
            #expect(reply.value["discussion_id"]?.stringValue == NotionSeed.discussionID)
            #expect(reply.value["parent"]?["page_id"]?.stringValue == NotionSeed.pageID)
            let replyID = try #require(reply.value["id"]?.stringValue)

            let fresh = try await notion.call(
                .POST, "/v1/comments", #"{"parent":{"page_id":"\#(NotionSeed.childPageID)"},"rich_text":[{"text":{"content":"New"}}]}"#)
            #expect(fresh.value["discussion_id"]?.stringValue != NotionSeed.discussionID)

            #expect(ids(try await notion.call(.GET, "/v1/comments?block_id=\(NotionSeed.pageID)")) == [NotionSeed.commentID, replyID])
            #expect(plainText(try await notion.call(.GET, "/v1/comments/\(replyID)").value["rich_text"]) == "Yes")
            expectError(try await notion.call(.GET, "/v1/comments"), 400, "validation_error")
            expectError(try await notion.call(.POST, "/v1/comments", #"{"parent":{"page_id":"\#(NotionSeed.pageID)"}}"#), 400, "validation_error")
        }
    }

    @Test func usersAreListedAndUsersMeStillAnswersWithTheTokensBot() async throws {
        try await withIntegration { notion in
            let users = try await notion.call(.GET, "/v1/users")
            #expect(users.value["type"]?.stringValue == "user")
            #expect(ids(users) == [NotionSeed.personUserID, NotionSeed.botUserID])
            let paged = try await notion.collect("/v1/users", pageSize: 1)
            #expect(paged.pages == 2)
            #expect(paged.results.compactMap { $0["id"]?.stringValue } == [NotionSeed.personUserID, NotionSeed.botUserID])

            let unknown = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"
            #expect(expectError(try await notion.call(.GET, "/v1/users/\(unknown)"), 404, "object_not_found") == "Could not find user with ID: \(unknown).")
            let me = try await notion.call(.GET, "/v1/users/me")
            #expect(me.value["id"]?.stringValue == botID)
            #expect(me.value["bot"]?["workspace_name"]?.stringValue == "Acme")
        }
    }

    @Test func aCreatedDatabaseHasADataSourceWhoseSchemaCanChange() async throws {
        try await withIntegration { notion in
            let created = try await notion.call(
                .POST, "/v1/databases",
                #"""
                {"parent":{"type":"page_id","page_id":"\#(NotionSeed.pageID)"},"title":[{"text":{"content":"Bugs"}}],
                 "initial_data_source":{"properties":{"Name":{"title":{}},"Points":{"number":{}}}}}
                """#)
            #expect(created.status == 200, "\(String(decoding: created.body, as: UTF8.self))")
            #expect(created.value["object"]?.stringValue == "database")
            let sourceID = try #require(created.value["data_sources"]?.arrayValue?.first?["id"]?.stringValue)
            #expect(created.value["data_sources"]?.arrayValue?.first?["name"]?.stringValue == "Bugs")

            let source = try await notion.call(.GET, "/v1/data_sources/\(sourceID)")
            #expect(source.value["properties"]?["Points"]?["type"]?.stringValue == "number")
            let changed = try await notion.call(
                .PATCH, "/v1/data_sources/\(sourceID)",
                #"{"title":[{"text":{"content":"Bug list"}}],"properties":{"Points":null,"Stage":{"select":{"options":[{"name":"Triage"}]}}}}"#)
            #expect(changed.status == 200)
            #expect(changed.value["properties"]?.objectValue?.keys.sorted() == ["Name", "Stage"])
            #expect(changed.value["properties"]?["Stage"]?["select"]?["options"]?.arrayValue?.first?["name"]?.stringValue == "Triage")
            #expect(ids(try await notion.call(.POST, "/v1/search", #"{"query":"bug list"}"#)) == [sourceID])

            let row = try await notion.call(
                .POST, "/v1/pages", #"{"parent":{"data_source_id":"\#(sourceID)"},"properties":{"Stage":{"select":{"name":"Triage"}}}}"#)
            let rowID = try #require(row.value["id"]?.stringValue)
            #expect(ids(try await notion.call(.POST, "/v1/data_sources/\(sourceID)/query", "{}")) == [rowID])

            expectError(
                try await notion.call(
                    .POST, "/v1/databases",
                    #"{"parent":{"page_id":"\#(NotionSeed.pageID)"},"initial_data_source":{"properties":{"Points":{"number":{}}}}}"#),
                400, "validation_error")
        }
    }
}
