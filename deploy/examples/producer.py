#!/usr/bin/env python3
"""Pushes random ratings to streamrecd's ingest socket, over CURVE when keys are set.

Environment: EXAMPLE_PULL (default tcp://127.0.0.1:5555), EXAMPLE_EVENTS
(how many, default 10000), and for CURVE: EXAMPLE_SERVER_KEY (the daemon's
public key) plus EXAMPLE_CLIENT_SECRET (this producer's secret key), each a
Z85 key or a file holding one (as `streamrec keygen --out NAME` writes them).
"""
import os
import random
import time

import zmq


def key(value):
    """A Z85 key given inline or as a key file."""
    if value and len(value) != 40 and os.path.exists(value):
        value = open(value).read().strip()
    return value


def curve(socket):
    """Makes `socket` a CURVE client when EXAMPLE_SERVER_KEY is set."""
    server = key(os.environ.get("EXAMPLE_SERVER_KEY"))
    if not server:
        return
    secret = key(os.environ["EXAMPLE_CLIENT_SECRET"])
    socket.curve_serverkey = server.encode()
    socket.curve_secretkey = secret.encode()
    socket.curve_publickey = zmq.curve_public(secret.encode())


def main():
    push = zmq.Context.instance().socket(zmq.PUSH)
    curve(push)
    push.connect(os.environ.get("EXAMPLE_PULL", "tcp://127.0.0.1:5555"))
    total = int(os.environ.get("EXAMPLE_EVENTS", "10000"))
    rng = random.Random(1)
    for start in range(0, total, 100):
        batch = [{"user": rng.randrange(500), "item": rng.randrange(200), "rating": rng.randint(1, 10),
                  "ts": int(time.time())} for _ in range(min(100, total - start))]
        push.send_json(batch)
    push.close(linger=10000)  # wait until ZeroMQ has handed everything over
    print(f"pushed {total} events")


if __name__ == "__main__":
    main()
