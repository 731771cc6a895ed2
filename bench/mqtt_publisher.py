"""Load generator for ``bench ingest``: QoS 1 PUBLISH packets written straight to a socket.

paho's publisher tops out far below what the subscriber can take (FIELD-NOTES: ~500 msg/s at
QoS 1 with its defaults; flat out, its Python-side queue grows while the GIL-bound network thread
falls behind). This speaks just enough MQTT 3.1.1 to publish at QoS 1 — CONNECT, PUBLISH with a
packet id, PUBACKs counted, DISCONNECT — so the broker and the subscriber see real QoS 1 traffic
and the generator costs little CPU. At most ``--window`` messages are unacknowledged at a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import socket
import time


def _length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(text: str) -> bytes:
    data = text.encode()
    return len(data).to_bytes(2, "big") + data


def _connect(sock: socket.socket, client_id: str) -> None:
    body = _string("MQTT") + bytes([4, 0x02]) + (60).to_bytes(2, "big") + _string(client_id)
    sock.sendall(b"\x10" + _length(len(body)) + body)
    ack = sock.recv(4)
    if ack[:2] != b"\x20\x02" or ack[3] != 0:
        raise RuntimeError(f"CONNACK refused: {ack!r}")


def publish(args: argparse.Namespace) -> None:
    sock = socket.create_connection(("127.0.0.1", args.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    _connect(sock, args.client_id)
    sock.setblocking(False)
    topics = [_string(f"hub/v1/power/pwr-b{args.first + i}") for i in range(args.sensors)]
    started = time.monotonic()
    end = started + args.seconds
    sent = acked = 0
    pending = b""
    last_ms = 0
    while time.monotonic() < end:
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    raise RuntimeError("broker closed the connection")
                pending += data
        except BlockingIOError:
            pass
        acked += len(pending) // 4  # every packet the broker sends here is a 4-byte PUBACK
        pending = pending[len(pending) // 4 * 4 :]
        allowed = args.window - (sent - acked)
        if args.rate:
            allowed = min(allowed, int((time.monotonic() - started) * args.rate) - sent)
        if allowed <= 0:
            time.sleep(0.0005)
            continue
        chunk = bytearray()
        for _ in range(min(allowed, 200)):
            now_ms = max(int(time.time() * 1000), last_ms) if args.batch > 1 else 0
            if args.batch == 1:
                ts = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
                body = json.dumps(
                    {"ts": ts, "metric": "energy_kwh", "value": 1.0, "unit": "kWh"}
                ).encode()
            else:
                # ThingsBoard shape: one reading per millisecond back from now; a sensor's next
                # batch comes round well after ``batch`` ms, so (sensor, ts) never repeats.
                last_ms = now_ms + 1
                body = json.dumps(
                    [{"ts": now_ms - j, "values": {"energy_kwh": 1.0}} for j in range(args.batch)]
                ).encode()
            topic = topics[sent % len(topics)]
            packet_id = (sent % 65535 + 1).to_bytes(2, "big")
            rest = topic + packet_id + body
            chunk += b"\x32" + _length(len(rest)) + rest
            sent += 1
        sock.setblocking(True)
        sock.sendall(chunk)
        sock.setblocking(False)
    sending_s = time.monotonic() - started
    sock.setblocking(True)
    sock.settimeout(30)
    while acked < sent:
        data = sock.recv(65536)
        if not data:
            break
        pending += data
        acked += len(pending) // 4
        pending = pending[len(pending) // 4 * 4 :]
    sock.sendall(b"\xe0\x00")
    sock.close()
    # CLOCK_MONOTONIC is system-wide on Linux: the bench compares ``started`` with its own.
    print(json.dumps({"sent": sent, "acked": acked, "sending_s": sending_s, "started": started}))


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m bench.mqtt_publisher")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rate", type=float, default=0, help="messages/s; 0 = as fast as acked")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--batch", type=int, default=1, help="readings per message")
    p.add_argument("--window", type=int, default=5000, help="unacknowledged messages at most")
    p.add_argument("--qos", type=int, default=1, choices=[1])
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--sensors", type=int, default=1000)
    p.add_argument("--client-id", default="bench-pub")
    publish(p.parse_args())
