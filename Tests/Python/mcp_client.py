"""An independent MCP client for the tests: the `mcp` SDK from PyPI drives a server over stdio.

Reads a JSON plan on standard input:
  {"command": [...], "env": {...}, "stderr": "PATH",
   "steps": [{"list_tools": true} | {"call": NAME, "arguments": {...}} | {"sleep": SECONDS}]}
starts the command, initialises, runs the steps in order and prints one JSON report:
  {"initialize": {...}, "steps": [...]} where a list_tools step reports the tools as the
  server sent them plus any problem with their input schemas (checked as JSON Schema), and a
  call step reports the tool result, or the JSON-RPC error the server answered with.
"""

import asyncio
import json
import sys
import time

import jsonschema
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import McpError


async def run(plan):
    command = plan["command"]
    server = StdioServerParameters(command=command[0], args=command[1:], env=plan.get("env"))
    report = {"steps": []}
    with open(plan.get("stderr", "/dev/null"), "w") as errlog:
        async with stdio_client(server, errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                started = time.monotonic()
                initialized = await session.initialize()
                report["initialize"] = initialized.model_dump(mode="json", exclude_none=True)
                report["initialize_seconds"] = time.monotonic() - started
                for step in plan["steps"]:
                    report["steps"].append(await run_step(session, step))
    return report


async def run_step(session, step):
    if step.get("list_tools"):
        listed = await session.list_tools()
        tools = [tool.model_dump(mode="json", exclude_none=True) for tool in listed.tools]
        problems = {}
        for tool in tools:
            try:
                jsonschema.Draft202012Validator.check_schema(tool["inputSchema"])
            except jsonschema.SchemaError as error:
                problems[tool["name"]] = error.message
        return {"tools": tools, "schema_problems": problems}
    if "sleep" in step:
        await asyncio.sleep(step["sleep"])
        return {"slept": step["sleep"]}
    started = time.monotonic()
    try:
        result = await session.call_tool(step["call"], step.get("arguments"))
    except McpError as error:
        return {"error": {"code": error.error.code, "message": error.error.message}}
    outcome = result.model_dump(mode="json", exclude_none=True, by_alias=True)
    outcome["seconds"] = time.monotonic() - started
    return outcome


def main():
    plan = json.load(sys.stdin)
    report = asyncio.run(run(plan))
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
