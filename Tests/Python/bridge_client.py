"""An independent MCP client for the bridge tests: the `mcp` SDK's stdio client and session,
run against a command (`notionauth mcp notion-mcp …`). Prints one JSON object on standard
output: each step's result or JSON-RPC error, the progress and log notifications received
during the `progress` call, and every other notification's method.

    bridge_client.py [--pause PATH] [--stdout-copy PATH] [--stderr PATH] -- COMMAND ARGS…

--pause PATH: after the first `echo`, create PATH.reached and wait for PATH before calling
`echo` again (the test changes something at the server meanwhile).
--stdout-copy PATH: keep a copy of every byte the command writes on standard output.
--stderr PATH: where the command's standard error goes.
--drop-get-stream: after `announce`, call `drop_get_stream` (the upstream closes the GET
stream), wait, and `announce` again; `list_changed_after_drop` says whether that second
notifications/tools/list_changed arrived (on the stream the bridge opened again).
"""

import argparse
import asyncio
import json
import os
import sys

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import McpError


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pause")
    parser.add_argument("--stdout-copy")
    parser.add_argument("--stderr")
    parser.add_argument("--drop-get-stream", action="store_true")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    arguments = parser.parse_args()
    command = [word for word in arguments.command if word != "--"] if arguments.command[:1] == ["--"] else arguments.command
    if arguments.stdout_copy:
        # tee keeps the bytes exactly as the command wrote them.
        command = ["/bin/sh", "-c", 'COPY="$1"; shift; "$@" | tee "$COPY"', "sh", arguments.stdout_copy] + command

    report: dict = {"steps": {}, "progress": [], "logs": [], "notifications": []}
    list_changed = anyio.Event()

    async def on_message(message) -> None:
        if isinstance(message, Exception):
            report["notifications"].append(f"exception: {message}")
            return
        method = getattr(getattr(message, "root", None), "method", None)
        if method:
            report["notifications"].append(method)
            if method == "notifications/tools/list_changed":
                list_changed.set()

    async def on_log(params) -> None:
        report["logs"].append(params.data)

    async def on_progress(progress, total, message) -> None:
        report["progress"].append([progress, total, message])

    async def step(name: str, call) -> bool:
        try:
            result = await call
            report["steps"][name] = {"ok": True, "result": json.loads(result.model_dump_json(by_alias=True, exclude_none=True))}
            return True
        except McpError as error:
            report["steps"][name] = {"ok": False, "error": {"code": error.error.code, "message": error.error.message}}
            return False

    errlog = open(arguments.stderr, "a") if arguments.stderr else sys.stderr
    server = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    async with stdio_client(server, errlog=errlog) as (read, write):
        async with ClientSession(read, write, message_handler=on_message, logging_callback=on_log) as session:
            if await step("initialize", session.initialize()):
                await step("list_tools", session.list_tools())
                await step("echo", session.call_tool("echo", {"text": "hello through the bridge"}))
                await step("progress", session.call_tool("progress", {"steps": 3}, progress_callback=on_progress))
                if await step("announce", session.call_tool("announce", {})):
                    with anyio.move_on_after(5):
                        await list_changed.wait()
                if arguments.drop_get_stream and await step("drop_get_stream", session.call_tool("drop_get_stream", {})):
                    list_changed = anyio.Event()
                    await asyncio.sleep(2)
                    report["list_changed_after_drop"] = False
                    if await step("announce_after_drop", session.call_tool("announce", {})):
                        with anyio.move_on_after(5):
                            await list_changed.wait()
                        report["list_changed_after_drop"] = list_changed.is_set()
                if arguments.pause:
                    open(arguments.pause + ".reached", "w").close()
                    while not os.path.exists(arguments.pause):
                        await asyncio.sleep(0.02)
                    await step("echo_after_pause", session.call_tool("echo", {"text": "after the pause"}))
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
