@testable import NotionFakes
import Foundation
import Testing
@testable import NotionAuthCore

/// Every tool of `notionauth mcp` called by the Python MCP client against the fake Notion's
/// seeded workspace: the request each one sends, the result it gives back, pagination, and
/// Notion's refusals as an agent sees them.
@Suite struct MCPToolCallTests {
    static let token = "ntn_mcp_tools_0123456789abcdef"

    @Test func everyToolSendsItsRequestAndReturnsNotionsAnswer() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: Self.token)
        defer { Task { try? await setup.server.stop() } }
        let page = NotionSeed.pageID
        let title: [String: Any] = ["title": ["title": [["text": ["content": "Made by an agent"]]]]]
        let paragraph: [String: Any] = ["object": "block", "type": "paragraph", "paragraph": ["rich_text": [["type": "text", "text": ["content": "Hello"]]]]]
        // (tool, arguments, the method and path the fake must see, a field of the answer to check)
        let calls: [(String, [String: Any], String, String, (String, String))] = [
            ("notion_search", ["query": "road", "object_type": "page", "sort_direction": "descending", "page_size": 5], "POST", "/v1/search", ("object", "list")),
            ("notion_get_page", ["page_id": "https://www.notion.so/acme/Roadmap-\(page.replacing("-", with: ""))?pvs=4"], "GET", "/v1/pages/\(page)", ("id", page)),
            ("notion_get_page_property", ["page_id": NotionSeed.taskIDs[0], "property_id": NotionSeed.statusPropertyID], "GET", "/v1/pages/\(NotionSeed.taskIDs[0])/properties/\(NotionSeed.statusPropertyID)", ("object", "property_item")),
            ("notion_create_page", ["parent_page_id": page, "properties": title, "children": [paragraph]], "POST", "/v1/pages", ("object", "page")),
            ("notion_update_page", ["page_id": NotionSeed.childPageID, "icon": ["type": "emoji", "emoji": "🚀"]], "PATCH", "/v1/pages/\(NotionSeed.childPageID)", ("id", NotionSeed.childPageID)),
            ("notion_get_block", ["block_id": NotionSeed.blockID], "GET", "/v1/blocks/\(NotionSeed.blockID)", ("type", "paragraph")),
            ("notion_get_block_children", ["block_id": page, "page_size": 10], "GET", "/v1/blocks/\(page)/children", ("object", "list")),
            ("notion_append_block_children", ["block_id": NotionSeed.childPageID, "children": [paragraph]], "PATCH", "/v1/blocks/\(NotionSeed.childPageID)/children", ("object", "list")),
            ("notion_update_block", ["block_id": NotionSeed.paragraphIDs[1], "block": ["paragraph": ["rich_text": [["type": "text", "text": ["content": "Changed"]]]]]], "PATCH", "/v1/blocks/\(NotionSeed.paragraphIDs[1])", ("type", "paragraph")),
            ("notion_delete_block", ["block_id": NotionSeed.paragraphIDs[2]], "DELETE", "/v1/blocks/\(NotionSeed.paragraphIDs[2])", ("id", NotionSeed.paragraphIDs[2])),
            ("notion_get_database", ["database_id": NotionSeed.databaseID], "GET", "/v1/databases/\(NotionSeed.databaseID)", ("object", "database")),
            ("notion_get_data_source", ["data_source_id": NotionSeed.dataSourceID], "GET", "/v1/data_sources/\(NotionSeed.dataSourceID)", ("object", "data_source")),
            ("notion_query_data_source", ["data_source_id": NotionSeed.dataSourceID, "filter": ["property": "Status", "select": ["equals": "Done"]]], "POST", "/v1/data_sources/\(NotionSeed.dataSourceID)/query", ("object", "list")),
            ("notion_create_database", ["parent_page_id": page, "title": "Bugs", "properties": ["Name": ["title": [:] as [String: Any]]]], "POST", "/v1/databases", ("object", "database")),
            ("notion_update_data_source", ["data_source_id": NotionSeed.dataSourceID, "title": "Tasks 2"], "PATCH", "/v1/data_sources/\(NotionSeed.dataSourceID)", ("object", "data_source")),
            ("notion_list_comments", ["block_id": page], "GET", "/v1/comments", ("object", "list")),
            ("notion_create_comment", ["discussion_id": NotionSeed.discussionID, "text": "Yes"], "POST", "/v1/comments", ("object", "comment")),
            ("notion_get_comment", ["comment_id": NotionSeed.commentID], "GET", "/v1/comments/\(NotionSeed.commentID)", ("id", NotionSeed.commentID)),
            ("notion_list_users", [:], "GET", "/v1/users", ("object", "list")),
            ("notion_get_user", ["user_id": NotionSeed.personUserID], "GET", "/v1/users/\(NotionSeed.personUserID)", ("id", NotionSeed.personUserID)),
            ("notion_get_self", [:], "GET", "/v1/users/me", ("object", "user")),
        ]
        #expect(Set(calls.map(\.0)) == MCPServerTests.readTools.union(MCPServerTests.addingTools).union(MCPServerTests.changingTools))
        let before = setup.server.allRequests.count
        let run = try await setup.sandbox.mcpSession([], calls.map { .call($0.0, $0.1) })
        let requests = Array(setup.server.allRequests.dropFirst(before))
        #expect(requests.count == calls.count, "\(requests.map(\.uri))")
        for (index, (tool, _, method, path, (field, value))) in calls.enumerated() {
            let result = run.step(index)
            #expect(!result.isError, "\(tool): \(result.text.prefix(300))")
            #expect(result.structured?[field] as? String == value, "\(tool): \(field) in \(result.text.prefix(300))")
            // The text content is the same JSON, for clients that read only text.
            let text = ((result["content"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?[field] as? String == value, "\(tool)")
            guard index < requests.count else { continue }
            #expect(requests[index].method == method, "\(tool)")
            #expect(requests[index].path == path, "\(tool): \(requests[index].uri)")
            #expect(requests[index].header("authorization") == "Bearer \(Self.token)")
        }
        // What the agent gave went into the bodies as Notion documents them.
        let created = try #require(setup.server.requests(path: "/v1/pages").first?.jsonBody)
        #expect((created["parent"] as? [String: Any])?["page_id"] as? String == NotionSeed.pageID)
        let search = try #require(setup.server.requests(path: "/v1/search").first?.jsonBody)
        #expect((search["filter"] as? [String: Any])?["value"] as? String == "page")
        #expect(search["page_size"] as? Int == 5)
        let comment = try #require(setup.server.requests(path: "/v1/comments").last?.jsonBody)
        #expect(comment["discussion_id"] as? String == NotionSeed.discussionID)
        #expect(setup.server.requests(path: "/v1/comments").first?.query["block_id"] == NotionSeed.pageID)
        // The change is real: the created page can be read back.
        let newPage = try #require(run.step(3).structured?["id"] as? String)
        let reread = try await setup.sandbox.mcpSession([], [.call("notion_get_page", ["page_id": newPage])])
        #expect(!reread.step(0).isError)
        MCPServerTests.expectNoSecret([Self.token], in: run)
        MCPServerTests.expectOnlyProtocol(run)
    }

    @Test func paginatedResultsSayHowToGetTheNextPage() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: Self.token)
        defer { Task { try? await setup.server.stop() } }
        let first = try await setup.sandbox.mcpSession([], [.call("notion_get_block_children", ["block_id": NotionSeed.pageID])])
        let page1 = first.step(0)
        #expect((page1.structured?["results"] as? [Any])?.count == 100)
        #expect(page1.structured?["has_more"] as? Bool == true)
        let cursor = try #require(page1.structured?["next_cursor"] as? String)
        #expect(page1.text.contains("call notion_get_block_children again with the same arguments and \"start_cursor\": \"\(cursor)\""), "\(page1.text.suffix(200))")
        let second = try await setup.sandbox.mcpSession(
            [], [.call("notion_get_block_children", ["block_id": NotionSeed.pageID, "start_cursor": cursor])])
        let page2 = second.step(0)
        #expect((page2.structured?["results"] as? [Any])?.count == 20)
        #expect(page2.structured?["has_more"] as? Bool == false)
        #expect(!page2.text.contains("More results"))
        #expect(setup.server.allRequests.last?.query["start_cursor"] == cursor)
    }

    @Test func notionsRefusalsComeBackAsToolErrorsThatSayWhatToDo() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: Self.token)
        defer { Task { try? await setup.server.stop() } }
        let run = try await setup.sandbox.mcpSession([], [
            .call("notion_get_page", ["page_id": NotionSeed.unsharedPageID]),
            .call("notion_get_page", ["page_id": NotionSeed.restrictedPageID]),
            .call("notion_create_page", ["parent_data_source_id": NotionSeed.dataSourceID, "properties": ["Nope": ["number": 1]]]),
        ])
        let notShared = run.step(0)
        #expect(notShared.isError)
        #expect(notShared.text.contains("HTTP 404") && notShared.text.contains("object_not_found"))
        #expect(notShared.text.contains("not be shared with the integration") && notShared.text.contains("Connections"), "\(notShared.text)")
        let restricted = run.step(1)
        #expect(restricted.isError && restricted.text.contains("restricted_resource"))
        #expect(restricted.text.contains("lacks a capability"), "\(restricted.text)")
        #expect(run.step(2).isError && run.step(2).text.contains("HTTP 400"), "\(run.step(2).text)")
    }

    @Test func rateLimitsAreWaitedOutThenReported() async throws {
        let setup = try await TokenLoginSetup.loggedIn(token: Self.token)
        defer { Task { try? await setup.server.stop() } }
        // One 429: waited out (Retry-After 1 s), the call succeeds, a person watching stderr is told.
        setup.server.rateLimitNext(count: 1, retryAfterSeconds: 1)
        let waited = try await setup.sandbox.mcpSession([], [.call("notion_get_page", ["page_id": NotionSeed.pageID])])
        #expect(!waited.step(0).isError, "\(waited.step(0).text)")
        #expect((waited.step(0)["seconds"] as? Double ?? 0) >= 0.9)
        #expect(waited.serverStderr.contains("rate limited by Notion"))
        #expect(setup.server.requestCount(path: "/v1/pages/\(NotionSeed.pageID)") == 2)
        // More 429s than the retries: a tool error saying when to try again.
        setup.server.rateLimitNext(count: 4, retryAfterSeconds: 0)
        let refused = try await setup.sandbox.mcpSession([], [.call("notion_get_page", ["page_id": NotionSeed.pageID])])
        #expect(refused.step(0).isError)
        #expect(refused.step(0).text.contains("HTTP 429") && refused.step(0).text.contains("still rate limiting"), "\(refused.step(0).text)")
        MCPServerTests.expectOnlyProtocol(refused)
    }
}
