#!/usr/bin/env python3
"""A TCP relay on 127.0.0.1 that delays every byte by --delay-ms in each direction (a
network with a round trip of twice that), in order, for bench/network.sh.

    latency_relay.py --target-port N [--delay-ms 25]

Prints the port it listens on. Data is forwarded as it arrives, each chunk released
--delay-ms after it was read (so bandwidth is not limited, only latency added).
"""
import argparse
import asyncio
import sys
import time


async def pump(reader, writer, delay):
    queue = asyncio.Queue()

    async def release():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        try:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            writer.write_eof()
        except Exception:
            pass

    task = asyncio.create_task(release())
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            queue.put_nowait((time.monotonic() + delay, data))
    except Exception:
        pass
    queue.put_nowait((time.monotonic() + delay, None))
    try:
        await task
    except Exception:
        pass


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--target-port", type=int, required=True)
    p.add_argument("--delay-ms", type=float, default=25)
    a = p.parse_args()
    delay = a.delay_ms / 1000

    async def handle(client_r, client_w):
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", a.target_port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(pump(client_r, up_w, delay), pump(up_r, client_w, delay))
        for w in (client_w, up_w):
            try:
                w.close()
            except Exception:
                pass

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
