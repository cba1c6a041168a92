"""scripts/bench's figures for `run --proxy`.

requests URL COUNT (run as the child of `notionauth run --proxy`, with BENCH_TOKEN holding
the real token and BENCH_CA the fake server's CA): curl GETs of URL over one kept-alive
connection, through the proxy and sent directly with the same token, alternating; then
COUNT requests 8 at a time through each, for requests per second. Prints JSON.

start NOTIONAUTH RUNS: the time from starting `notionauth run [--proxy] notion -- date
+%s%N` to the child's first instruction (what date prints), for both. Prints JSON."""
import json
import os
import statistics
import subprocess
import sys
import time


def curl(extra, urls, parallel=False):
    args = ["curl", "-s", "-w", "%{time_total}\n", "-H", "Notion-Version: 2025-09-03", *extra]
    if parallel:
        args += ["-Z", "--parallel-max", "8"]
    for url in urls:
        args += ["-o", "/dev/null", url]
    started = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout.split()
    return [float(x) * 1000 for x in out], time.perf_counter() - started


def requests_mode(url, count):
    token = os.environ.pop("BENCH_TOKEN")
    proxied = ["-H", "Authorization: Bearer " + os.environ["NOTION_ACCESS_TOKEN"]]
    direct = ["--noproxy", "*", "--cacert", os.environ["BENCH_CA"], "-H", "Authorization: Bearer " + token]
    through, straight = [], []
    for _ in range(5):
        # The first transfer of each curl opens the connection (and the tunnel): left out.
        through += curl(proxied, [url] * (count // 5 + 1))[0][1:]
        straight += curl(direct, [url] * (count // 5 + 1))[0][1:]
    _, through_wall = curl(proxied, [url] * count, parallel=True)
    _, direct_wall = curl(direct, [url] * count, parallel=True)
    print(json.dumps({
        "through_median_ms": statistics.median(through),
        "direct_median_ms": statistics.median(straight),
        "added_median_ms": statistics.median(through) - statistics.median(straight),
        "samples": len(through),
        "through_rps": count / through_wall,
        "direct_rps": count / direct_wall,
    }))


def start_mode(notionauth, runs):
    def once(options):
        started = time.time_ns()
        out = subprocess.run([notionauth, "run", *options, "notion", "--", "date", "+%s%N"], capture_output=True, text=True, check=True).stdout
        return (int(out.strip()) - started) / 1e6

    plain, proxied = [], []
    for _ in range(runs):
        plain.append(once([]))
        proxied.append(once(["--proxy"]))
    print(json.dumps({"run_ms": statistics.median(plain), "run_proxy_ms": statistics.median(proxied)}))


if __name__ == "__main__":
    if sys.argv[1] == "requests":
        requests_mode(sys.argv[2], int(sys.argv[3]))
    else:
        start_mode(sys.argv[2], int(sys.argv[3]))
