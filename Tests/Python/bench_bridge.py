"""Latency of tools/call through the bridge, next to the same calls made directly.

Given an upstream streamable-HTTP MCP server with an `echo` tool (upstream_mcp_server.py) and
a bridge command (`notionauth mcp notion-mcp`, its provider pointed at that server), times N
`echo` round trips through the bridge with the `mcp` SDK's stdio client, then N made directly
with the SDK's streamable-HTTP client and the same bearer token, in the same run, and prints
one JSON object:

    {"calls": N, "bridge_median_ms": …, "direct_median_ms": …, "overhead_median_ms": …,
     "bridge_p90_ms": …, "direct_p90_ms": …}

    bench_bridge.py --url URL [--calls N] [--warmup W] [--token-env NAME] -- COMMAND ARGS…

The token is read from the environment variable NAME (default NOTION_MCP_ACCESS_TOKEN, as
`eval "$(notionauth export notion-mcp)"` sets it); it is never printed.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time

import httpx
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client


async def time_calls(session: ClientSession, calls: int, warmup: int) -> list[float]:
    await session.initialize()
    for index in range(warmup):
        await session.call_tool("echo", {"text": f"warm-up {index}"})
    timings = []
    for index in range(calls):
        started = time.perf_counter()
        result = await session.call_tool("echo", {"text": f"call {index}"})
        timings.append((time.perf_counter() - started) * 1000)
        if result.isError:
            sys.exit(f"echo failed: {result.content}")
    return timings


async def through_bridge(command: list[str], calls: int, warmup: int) -> list[float]:
    server = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    with open(os.devnull, "w") as quiet:
        async with stdio_client(server, errlog=quiet) as (read, write):
            async with ClientSession(read, write) as session:
                return await time_calls(session, calls, warmup)


async def direct(url: str, token: str, calls: int, warmup: int) -> list[float]:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        async with streamable_http_client(url, http_client=http) as (read, write, _):
            async with ClientSession(read, write) as session:
                return await time_calls(session, calls, warmup)


def p90(timings: list[float]) -> float:
    return statistics.quantiles(timings, n=10)[-1] if len(timings) > 1 else timings[0]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--token-env", default="NOTION_MCP_ACCESS_TOKEN")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    arguments = parser.parse_args()
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    if not command:
        sys.exit("no bridge command given (after --)")
    token = os.environ.get(arguments.token_env)
    if not token:
        sys.exit(f"{arguments.token_env} is not set: the direct calls need the token")

    bridged = await through_bridge(command, arguments.calls, arguments.warmup)
    straight = await direct(arguments.url, token, arguments.calls, arguments.warmup)
    print(json.dumps({
        "calls": arguments.calls,
        "bridge_median_ms": round(statistics.median(bridged), 3),
        "direct_median_ms": round(statistics.median(straight), 3),
        "overhead_median_ms": round(statistics.median(bridged) - statistics.median(straight), 3),
        "bridge_p90_ms": round(p90(bridged), 3),
        "direct_p90_ms": round(p90(straight), 3),
    }), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
