"""Network interface queries: socket.if_nameindex() and if_nametoindex() (glibc asks the kernel
over a NETLINK_ROUTE socket and an ioctl), and getaddrinfo with AI_ADDRCONFIG (glibc checks which
address families are configured over netlink). Read-only, inside the sandbox's own network
namespace (only lo). CPython's test_socket does these."""
import socket

names = socket.if_nameindex()
assert any(n == "lo" for _, n in names), names
assert socket.if_nametoindex("lo") >= 1
assert socket.if_indextoname(socket.if_nametoindex("lo")) == "lo"
info = socket.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG)
assert info
print("OK net_ifaces", len(names))
