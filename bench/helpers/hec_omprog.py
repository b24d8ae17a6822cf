#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""omprog helper in the style of the classic rsyslog-to-HEC recipe.

rsyslog's omprog writes one message per line to our stdin, rendered as
"<unixtime.fraction> <hostname> <event text>". Each line becomes a HEC
event object (json.dumps, as such scripts do); events are collected into
batches and POSTed to HEC's event endpoint over one keep-alive connection.
Python standard library only, one thread.

usage: hec_omprog.py URL TOKEN [BATCH_LINES] [FLUSH_SECONDS]
"""
import http.client
import json
import os
import select
import sys
import time
import urllib.parse


def event(line):
    ts, host, text = line.decode("utf-8", "replace").split(" ", 2)
    return json.dumps({"time": float(ts), "host": host, "sourcetype": "syslog", "event": text}).encode() + b"\n"


def main():
    url = urllib.parse.urlsplit(sys.argv[1])
    token = sys.argv[2]
    batch_lines = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    flush_after = float(sys.argv[4]) if len(sys.argv) > 4 else 0.1
    headers = {"Authorization": "Splunk " + token, "Content-Type": "application/json"}

    conn = None
    batch = []
    pending = b""
    oldest = None
    fd = sys.stdin.fileno()

    def post():
        nonlocal conn
        body = b"".join(batch)
        while True:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(url.hostname, url.port or 8088, timeout=10)
                conn.request("POST", "/services/collector/event", body, headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    return
                sys.stderr.write("HEC answered %d, retrying\n" % resp.status)
            except (OSError, http.client.HTTPException) as e:
                sys.stderr.write("HEC request failed: %s, retrying\n" % e)
                if conn is not None:
                    conn.close()
                conn = None
            time.sleep(1)

    while True:
        timeout = None
        if batch:
            timeout = max(0.0, oldest + flush_after - time.monotonic())
        ready, _, _ = select.select([fd], [], [], timeout)
        if ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:  # rsyslog closed the pipe: flush and leave
                if batch:
                    post()
                return
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            for line in lines:
                if line:
                    if not batch:
                        oldest = time.monotonic()
                    batch.append(event(line))
                    if len(batch) >= batch_lines:
                        post()
                        batch = []
        elif batch:
            post()
            batch = []


if __name__ == "__main__":
    main()
