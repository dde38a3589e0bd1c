"""Workload: networking that stays inside the sandbox: a local HTTP server and client over TCP on
127.0.0.1 (IPv4 and IPv6), asyncio streams, UDP to itself, select/poll on sockets. Code an LLM writes
to test a web handler. The network namespace has only lo; nothing leaves the sandbox."""
import asyncio
import http.server
import json
import select
import socket
import threading
import urllib.request


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def http_roundtrip():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    with urllib.request.urlopen("http://127.0.0.1:%d/hello?x=1" % srv.server_port, timeout=5) as r:
        got = json.loads(r.read())
    srv.shutdown()
    srv.server_close()
    return got["path"]


async def echo(reader, writer):
    data = await reader.readline()
    writer.write(data.upper())
    await writer.drain()
    writer.close()


async def asyncio_tcp():
    srv = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping\n")
    await writer.drain()
    line = await reader.readline()
    writer.close()
    srv.close()
    await srv.wait_closed()
    return line.strip().decode()


def udp_and_poll():
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind(("127.0.0.1", 0))
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    b.sendto(b"dgram", a.getsockname())
    r, _, _ = select.select([a], [], [], 2)
    p = select.poll()
    p.register(a, select.POLLIN)
    assert p.poll(2000)
    data, _ = a.recvfrom(16)
    a.close()
    b.close()
    return data.decode()


def ipv6_loopback():
    if not socket.has_ipv6:
        return "no-ipv6"
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
    except OSError:
        return "no-ipv6"
    s.listen(1)
    c = socket.create_connection(("::1", s.getsockname()[1]), timeout=2)
    conn, _ = s.accept()
    c.sendall(b"six")
    got = conn.recv(8).decode()
    for x in (c, conn, s):
        x.close()
    return got


def blocked_outside():
    try:
        socket.create_connection(("192.0.2.1", 80), timeout=1)
        return "reached"
    except OSError:
        return "blocked"


print("OK net_local", http_roundtrip(), asyncio.run(asyncio_tcp()), udp_and_poll(), ipv6_loopback(),
      blocked_outside(), socket.gethostname())
