"""Workload: asyncio tasks, queues, a local socketpair stream and a subprocess-free timer."""
import asyncio
import socket


async def producer(q):
    for i in range(5):
        await q.put(i)
        await asyncio.sleep(0.001)
    await q.put(None)


async def consumer(q):
    got = []
    while (v := await q.get()) is not None:
        got.append(v)
    return got


async def main():
    q = asyncio.Queue()
    _, got = await asyncio.gather(producer(q), consumer(q))
    assert got == [0, 1, 2, 3, 4]
    a, b = socket.socketpair()
    r1, w1 = await asyncio.open_connection(sock=a)
    r2, w2 = await asyncio.open_connection(sock=b)
    w1.write(b"ping\n")
    await w1.drain()
    assert await r2.readline() == b"ping\n"
    for w in (w1, w2):
        w.close()
        await w.wait_closed()
    assert await asyncio.wait_for(asyncio.sleep(0, result=7), 1) == 7


asyncio.run(main())
print("OK asyncio_tasks")
