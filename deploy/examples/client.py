#!/usr/bin/env python3
"""Asks streamrecd for stats, a user's top items and a prediction, over CURVE when keys are set.

Environment: EXAMPLE_REP (default tcp://127.0.0.1:5556) and the same CURVE
variables as producer.py (this client's key must be on the daemon's client-keys).
"""
import json
import os

import zmq

from producer import curve


def main():
    req = zmq.Context.instance().socket(zmq.REQ)
    req.setsockopt(zmq.RCVTIMEO, 5000)
    req.setsockopt(zmq.LINGER, 0)
    curve(req)
    req.connect(os.environ.get("EXAMPLE_REP", "tcp://127.0.0.1:5556"))
    for request in ({"op": "stats"}, {"op": "top", "user": 1, "n": 5}, {"op": "predict", "user": 1, "item": 2}):
        req.send_json(request)
        reply = req.recv_json()
        print(json.dumps(request), "->", json.dumps(reply))
        if not reply.get("ok"):
            raise SystemExit(1)


if __name__ == "__main__":
    main()
