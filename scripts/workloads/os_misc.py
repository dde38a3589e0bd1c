"""Workload: the everyday os/shutil/resource calls LLM-written scripts make: cwd changes, copies and
trees, links, times, locks, syncs, resource usage, process ids, filesystem stats, sqlite in WAL
mode, select on pipes, scandir and chmod."""
import fcntl
import os
import resource
import select
import shutil
import sqlite3
import stat
import sys
import tempfile
import time

base = tempfile.mkdtemp(prefix="os-misc-")
os.chdir(base)
assert os.getcwd() == base
os.makedirs("tree/a/b", exist_ok=True)
with open("tree/a/b/data.txt", "w") as f:
    f.write("line\n" * 1000)
    f.flush()
    os.fsync(f.fileno())
    os.fdatasync(f.fileno())
shutil.copy2("tree/a/b/data.txt", "copy.txt")
shutil.copyfile("copy.txt", "copy2.txt")
shutil.copytree("tree", "tree2")
shutil.move("copy2.txt", "moved.txt")
os.symlink("copy.txt", "link.txt")
os.link("copy.txt", "hard.txt")
assert os.readlink("link.txt") == "copy.txt" and os.stat("hard.txt").st_nlink == 2
os.utime("copy.txt", (1000000000, 1000000000))
os.chmod("copy.txt", stat.S_IRUSR | stat.S_IWUSR)
os.truncate("moved.txt", 10)
entries = sorted(e.name for e in os.scandir("."))

with open("lock", "w") as f:
    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.lockf(f, fcntl.LOCK_UN)
    fcntl.flock(f, fcntl.LOCK_UN)

db = sqlite3.connect(os.path.join(base, "wal.db"))
db.execute("pragma journal_mode=wal")
db.execute("create table t(k integer primary key, v text)")
db.executemany("insert into t(v) values (?)", [("x%d" % i,) for i in range(100)])
db.commit()
rows = db.execute("select count(*) from t").fetchone()[0]
db.close()

r, w = os.pipe()
os.write(w, b"x")
ready = select.select([r], [], [], 1)[0] == [r]
usage = resource.getrusage(resource.RUSAGE_SELF)
t = os.times()
vfs = os.statvfs(base)
du = shutil.disk_usage(base)
ids = (os.getpid(), os.getppid(), os.getpgrp(), os.getsid(0), os.getuid(), os.geteuid(), os.getgroups())
aff = len(os.sched_getaffinity(0))
prio = os.getpriority(os.PRIO_PROCESS, 0)
os.chdir("/")
shutil.rmtree(base)
time.sleep(0.001)
print("OK os_misc", len(entries), rows, ready, usage.ru_maxrss > 0, t.elapsed >= 0, vfs.f_bsize > 0,
      du.total > 0, ids[0] > 0, ids[1] >= 0, aff >= 1, prio, sys.getfilesystemencoding())
