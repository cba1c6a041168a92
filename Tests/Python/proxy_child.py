"""The child of `notionauth run --proxy` in the tests: real HTTP clients (curl, requests,
urllib) calling a URL through the proxy that the child's environment names, verifying TLS
with the CA bundle it names, and printing, as JSON, everything the child saw."""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import requests

NOTION_VERSION = "2025-09-03"


def headers():
    # What an SDK would send: the token from the environment (the placeholder under --proxy).
    return {"Authorization": "Bearer " + os.environ.get("NOTION_ACCESS_TOKEN", ""), "Notion-Version": NOTION_VERSION}


def with_curl(url, extra=()):
    done = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}", *extra]
        + [arg for name, value in headers().items() for arg in ("-H", f"{name}: {value}")]
        + [url],
        capture_output=True, text=True, timeout=60)
    body, _, code = done.stdout.rpartition("\n")
    return {"status": int(code or 0), "body": body, "stderr": done.stderr, "exit": done.returncode}


def with_requests(url):
    response = requests.get(url, headers=headers(), timeout=60)
    return {"status": response.status_code, "body": response.text}


def with_urllib(url):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers()), timeout=60) as response:
            return {"status": response.status, "body": response.read().decode()}
    except urllib.error.HTTPError as error:
        return {"status": error.code, "body": error.read().decode()}


def connect_without_credential(proxy, target):
    """A CONNECT as another local process would send it: without the run's credential."""
    parsed = urllib.parse.urlsplit(proxy)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as sock:
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        return sock.recv(4096).decode(errors="replace").split("\r\n")[0]


def main():
    mode, url = sys.argv[1], sys.argv[2]
    report = {"environment": dict(os.environ), "pid": os.getpid()}
    if mode == "clients":
        report["results"] = {"curl": with_curl(url), "requests": with_requests(url), "urllib": with_urllib(url)}
    elif mode == "curl-cacert":
        # Only the given CA: succeeds only if the certificate is the server's own.
        report["results"] = {"curl": with_curl(url, ["--cacert", sys.argv[3]])}
    elif mode == "parallel":
        count = int(sys.argv[3])
        statuses = [None] * count
        start = threading.Barrier(count)

        def one(index):
            start.wait()
            statuses[index] = with_requests(url)["status"]

        threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        report["statuses"] = statuses
        report["after"] = with_requests(url)["status"]
    elif mode == "unauthorized":
        proxy = os.environ["HTTPS_PROXY"]
        parsed = urllib.parse.urlsplit(proxy)
        target = urllib.parse.urlsplit(url).netloc
        report["without"] = connect_without_credential(proxy, target)
        wrong = f"http://notionauth:wrong@{parsed.hostname}:{parsed.port}"
        report["wrong"] = with_curl(url, ["--proxy", wrong])
    elif mode == "wait":
        # Stays until the test has looked at /proc/PID/environ and made the file it names.
        bundle = os.environ.get("SSL_CERT_FILE", "")
        report["bundle_mode"] = oct(os.stat(bundle).st_mode & 0o777) if bundle else None
        report["bundle_directory_mode"] = oct(os.stat(os.path.dirname(bundle)).st_mode & 0o777) if bundle else None
        with open(sys.argv[3] + ".pid", "w") as marker:
            marker.write(str(os.getpid()))
        deadline = time.time() + 60
        while not os.path.exists(sys.argv[3] + ".go") and time.time() < deadline:
            time.sleep(0.02)
    print(json.dumps(report))
    sys.exit(int(os.environ.get("PROXY_CHILD_EXIT", "0")))


if __name__ == "__main__":
    main()
