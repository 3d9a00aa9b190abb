"""A real HTTP receiver of webhooks for the tests, on 127.0.0.1 at a free port it prints.

Each request to /<name>[/...] is checked with the Standard Webhooks reference verifier
(`standardwebhooks` from PyPI) against the secrets in <spool>/secret-<name> (one per line;
none: unchecked), and written to the spool as NNNNNN.json: the path, the webhook-* headers,
the body, and which secrets verified it. The answer is scripted by <spool>/answer-<name>:
  absent or a number   that status (default 200), body "ok" or "status N"
  flaky                500 the first time a webhook-id comes, 200 after
  slow:S               sleeps S seconds, then 200
  redirect             302 to /<name>-redirected
"""

import argparse
import itertools
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--spool", required=True)
    args = parser.parse_args()
    spool = args.spool
    numbers = itertools.count(1)
    seen = set()
    lock = threading.Lock()

    def read(name):
        try:
            with open(os.path.join(spool, name)) as f:
                return f.read().strip()
        except FileNotFoundError:
            return None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            name = self.path.strip("/").split("/")[0]
            headers = {k.lower(): v for k, v in self.headers.items() if k.lower().startswith("webhook-")}
            verified = []
            for n, secret in enumerate((read("secret-" + name) or "").split()):
                try:
                    Webhook(secret).verify(body, headers)
                    verified.append(n)
                except WebhookVerificationError as e:
                    pass
            answer = read("answer-" + name) or "200"
            with lock:
                number = next(numbers)
                first = headers.get("webhook-id") not in seen
                seen.add(headers.get("webhook-id"))
            record = {"number": number, "path": self.path, "headers": headers, "body": body,
                      "content_type": self.headers.get("content-type"), "verified": verified,
                      "received_at": time.time()}
            path = os.path.join(spool, "%06d.json" % number)
            with open(path + ".tmp", "w") as f:
                json.dump(record, f)
            os.rename(path + ".tmp", path)
            status, location = 200, None
            if answer == "flaky":
                status = 500 if first else 200
            elif answer.startswith("slow:"):
                time.sleep(float(answer.split(":", 1)[1]))
            elif answer == "redirect":
                status, location = 302, "/%s-redirected" % name
            else:
                status = int(answer)
            reply = ("ok" if status < 300 else "status %d" % status).encode()
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(reply)))
            if location:
                self.send_header("location", location)
            self.end_headers()
            self.wfile.write(reply)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # The tests close stdin (or die) when they are done: stop then.
    sys.stdin.read()
    server.shutdown()


main()
