"""A real SMTP server for the tests (aiosmtpd), on 127.0.0.1 at a free port it prints.

Every accepted message is written to the spool directory as NNNNNN.eml (the bytes received)
and NNNNNN.json (the envelope), in the order they arrived. Recipients script the server's
answers, so the tests can see the service's retries and failures over real SMTP:
  reject…@  550 at RCPT (a permanent refusal)
  busy…@    451 at RCPT, every time (a transient one)
  flaky…@   451 at RCPT the first time, accepted after
With --auth USER:PASSWORD the server requires AUTH (over plain TCP, on loopback only).
"""

import argparse
import asyncio
import itertools
import json
import os
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Spool:
    def __init__(self, directory):
        self.directory = directory
        self.numbers = itertools.count(1)
        self.tries = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local.startswith("busy"):
            return "451 4.2.1 mailbox busy, try again later"
        if local.startswith("flaky"):
            self.tries[address] = self.tries.get(address, 0) + 1
            if self.tries[address] == 1:
                return "451 4.3.0 temporary failure, try again"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        number = next(self.numbers)
        base = os.path.join(self.directory, "%06d" % number)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".eml.tmp", base + ".eml")
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 2.0.0 accepted as %06d" % number


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        # `handled=False`: aiosmtpd then answers 535 itself (handled=True would leave the
        # client waiting for a reply the handler never sends).
        return AuthResult(success=ok, handled=False)

    return check


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--spool", required=True)
    parser.add_argument("--auth")
    args = parser.parse_args()
    handler = Spool(args.spool)
    options = {}
    if args.auth:
        user, password = args.auth.split(":", 1)
        options = dict(
            authenticator=authenticator(user, password),
            auth_required=True,
            auth_require_tls=False,
        )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="localhost", **options), "127.0.0.1", 0
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    # The tests close stdin (or die) when they are done: stop then.
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


asyncio.run(main())
