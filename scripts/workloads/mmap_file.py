"""Workload: mmap a file in /tmp and an anonymous map."""
import mmap
import tempfile

with tempfile.TemporaryFile(dir="/tmp") as f:
    f.write(b"\0" * 65536)
    f.flush()
    with mmap.mmap(f.fileno(), 0) as m:
        m[0:5] = b"hello"
        m.flush()
        assert m.find(b"hello") == 0
anon = mmap.mmap(-1, 1 << 20)
anon.write(b"x" * 100)
anon.close()
print("OK mmap_file")
