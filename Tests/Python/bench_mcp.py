"""scripts/bench's figures for `notionauth mcp`: usage: bench_mcp.py NOTIONAUTH BASE_URL PAGE_ID RUNS

With NOTIONAUTH_HOME logged in to the fake Notion at BASE_URL and the same connection's token
in BENCH_TOKEN (for the direct requests), prints JSON with:
- initialize_ms: from starting `notionauth mcp` to the answer to `initialize` (median of 10);
- idle_rss_kib: the server's resident memory once initialised and idle;
- through_ms / direct_ms: median time of one notion_get_page call through the server (raw
  JSON-RPC over its pipes) and of the same GET sent straight to the fake server with a
  kept-alive connection, in the same run; added_ms is the difference.
"""

import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse

notionauth, base_url, page_id, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

INITIALIZE = {
    "jsonrpc": "2.0", "id": 0, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}


def start():
    return subprocess.Popen([notionauth, "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def exchange(server, message):
    server.stdin.write((json.dumps(message) + "\n").encode())
    server.stdin.flush()
    while True:
        answer = json.loads(server.stdout.readline())
        if answer.get("id") == message["id"]:
            return answer


def initialised():
    server = start()
    exchange(server, INITIALIZE)
    server.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    server.stdin.flush()
    return server


def stop(server):
    server.stdin.close()
    server.wait(timeout=10)


def initialize_times():
    times = []
    for _ in range(10):
        started = time.perf_counter()
        server = start()
        exchange(server, INITIALIZE)
        times.append(time.perf_counter() - started)
        stop(server)
    return times


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def through_times(server):
    times = []
    for index in range(runs + 5):
        call = {"jsonrpc": "2.0", "id": index + 1, "method": "tools/call",
                "params": {"name": "notion_get_page", "arguments": {"page_id": page_id}}}
        started = time.perf_counter()
        answer = exchange(server, call)
        elapsed = time.perf_counter() - started
        if answer.get("result", {}).get("isError") or "error" in answer:
            sys.exit(f"notion_get_page failed: {answer}")
        if index >= 5:
            times.append(elapsed)
    return times


def direct_times():
    url = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port)
    headers = {"Authorization": "Bearer " + os.environ["BENCH_TOKEN"], "Notion-Version": "2025-09-03", "Accept": "application/json"}
    times = []
    for index in range(runs + 5):
        started = time.perf_counter()
        connection.request("GET", f"/v1/pages/{page_id}", headers=headers)
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            sys.exit(f"direct request failed: HTTP {response.status}")
        if index >= 5:
            times.append(elapsed)
    return times


init = initialize_times()
server = initialised()
time.sleep(0.5)
idle = rss_kib(server.pid)
# Interleaved rounds, so that both sides see the same machine.
through, direct = [], []
for _ in range(4):
    through += through_times(server)
    direct += direct_times()
stop(server)
report = {
    "initialize_ms": statistics.median(init) * 1000,
    "idle_rss_kib": idle,
    "through_ms": statistics.median(through) * 1000,
    "direct_ms": statistics.median(direct) * 1000,
}
report["added_ms"] = report["through_ms"] - report["direct_ms"]
json.dump(report, sys.stdout)
print()
