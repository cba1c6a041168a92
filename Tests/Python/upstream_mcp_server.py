"""A stand-in for Notion's hosted MCP server, for the bridge tests and the benchmark.

A real streamable-HTTP MCP server (the `mcp` SDK's FastMCP) on a free port of 127.0.0.1 that
demands a bearer token and checks each one by RFC 7662 introspection at the authorization
server that issued it (the fake MCP server's /introspect). It prints its endpoint URL on
standard output once it accepts connections.

Tools: `echo` (answers with its text), `progress` (sends progress and log notifications while
it runs), `announce` (sends notifications/tools/list_changed on the session's GET stream).
GET /seen (no token needed) lists every bearer token presented, in order, with the verdict
(`tokens`), and every request to the endpoint: method, Mcp-Session-Id, MCP-Protocol-Version,
Last-Event-ID (`requests`).

With --resumable, events get ids from an in-memory event store (MCP's resumability), and the
tool `drop_get_stream` closes the session's GET stream, as a server or a proxy dropping it
would: a client must open it again, with Last-Event-ID.

    upstream_mcp_server.py --introspect http://127.0.0.1:PORT/introspect [--json-response] [--resumable]
"""

import argparse
import asyncio
import socket
import sys

import httpx
import uvicorn
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.streamable_http import EventMessage, EventStore
from starlette.requests import Request
from starlette.responses import JSONResponse


class MemoryEventStore(EventStore):
    """Every event kept, in order, so that a stream can be resumed after any of them."""

    def __init__(self):
        self.events: list[tuple[str, str, object]] = []

    async def store_event(self, stream_id, message):
        event_id = str(len(self.events) + 1)
        self.events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(self, last_event_id, send_callback):
        stream = next((stream for event_id, stream, _ in self.events if event_id == last_event_id), None)
        if stream is None:
            return None
        after = False
        for event_id, event_stream, message in self.events:
            if after and event_stream == stream and message is not None:
                await send_callback(EventMessage(message, event_id))
            after = after or event_id == last_event_id
        return stream


class IntrospectionVerifier(TokenVerifier):
    def __init__(self, introspection_url: str):
        self.introspection_url = introspection_url
        self.seen: list[dict] = []

    async def verify_token(self, token: str) -> AccessToken | None:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(self.introspection_url, data={"token": token})
        details = answer.json() if answer.status_code == 200 else {}
        active = details.get("active") is True
        self.seen.append({"token": token, "active": active})
        if not active:
            return None
        return AccessToken(
            token=token,
            client_id=details.get("client_id", ""),
            scopes=details.get("scope", "").split(),
            expires_at=details.get("exp"),
        )


def build(introspection_url: str, port: int, json_response: bool, resumable: bool, requests: list[dict]) -> FastMCP:
    base = f"http://127.0.0.1:{port}"
    verifier = IntrospectionVerifier(introspection_url)
    issuer = introspection_url.rsplit("/", 1)[0]
    server = FastMCP(
        "upstream",
        host="127.0.0.1",
        port=port,
        json_response=json_response,
        token_verifier=verifier,
        auth=AuthSettings(issuer_url=issuer, resource_server_url=base + "/mcp"),
        log_level="WARNING",
        event_store=MemoryEventStore() if resumable else None,
        retry_interval=200 if resumable else None,
    )

    @server.tool()
    def echo(text: str) -> str:
        """Answers with the text it was given."""
        return text

    @server.tool()
    async def progress(steps: int, ctx: Context) -> str:
        """Reports progress and logs a line at each step."""
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps, f"step {step}")
            await ctx.info(f"step {step} of {steps}")
        return f"{steps} steps done"

    @server.tool()
    async def announce(ctx: Context) -> str:
        """Sends notifications/tools/list_changed, unrelated to this request (the GET stream)."""
        await ctx.session.send_tool_list_changed()
        return "announced"

    @server.tool()
    async def drop_get_stream(ctx: Context) -> str:
        """Closes this session's GET stream (with --resumable)."""
        await ctx.close_standalone_sse_stream()
        return "dropped"

    @server.custom_route("/seen", methods=["GET"])
    async def seen(request: Request) -> JSONResponse:
        return JSONResponse({"tokens": verifier.seen, "requests": requests})

    return server


class RequestRecorder:
    """ASGI middleware noting the MCP headers of every request to the endpoint."""

    def __init__(self, app, requests: list[dict]):
        self.app = app
        self.requests = requests

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].rstrip("/") == "/mcp":
            headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
            self.requests.append({
                "method": scope["method"],
                "session": headers.get("mcp-session-id"),
                "protocol_version": headers.get("mcp-protocol-version"),
                "last_event_id": headers.get("last-event-id"),
            })
        await self.app(scope, receive, send)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--introspect", required=True)
    parser.add_argument("--json-response", action="store_true")
    parser.add_argument("--resumable", action="store_true")
    arguments = parser.parse_args()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    requests: list[dict] = []
    server = build(arguments.introspect, port, arguments.json_response, arguments.resumable, requests)
    app = RequestRecorder(server.streamable_http_app(), requests)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    running = uvicorn.Server(config)
    serving = asyncio.create_task(running.serve(sockets=[listener]))
    while not running.started:
        if serving.done():
            serving.result()
            sys.exit("the server stopped before it started")
        await asyncio.sleep(0.02)
    print(f"http://127.0.0.1:{port}/mcp", flush=True)
    await serving


if __name__ == "__main__":
    asyncio.run(main())
