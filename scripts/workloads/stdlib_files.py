"""Workload: files in /tmp: tempfile, pathlib, shutil, os, zip/tar archives, pickle, sqlite3."""
import os
import pathlib
import pickle
import shutil
import sqlite3
import tarfile
import tempfile
import zipfile

with tempfile.TemporaryDirectory(dir="/tmp") as d:
    base = pathlib.Path(d)
    (base / "sub").mkdir()
    p = base / "sub" / "a.txt"
    p.write_text("hello\n")
    assert p.read_text() == "hello\n"
    shutil.copy(p, base / "b.txt")
    os.rename(base / "b.txt", base / "c.txt")
    assert sorted(os.listdir(base)) == ["c.txt", "sub"]
    os.chmod(base / "c.txt", 0o600)
    with zipfile.ZipFile(base / "x.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.write(p, "a.txt")
    with zipfile.ZipFile(base / "x.zip") as z:
        assert z.read("a.txt") == b"hello\n"
    with tarfile.open(base / "x.tar.gz", "w:gz") as t:
        t.add(p, "a.txt")
    with tarfile.open(base / "x.tar.gz") as t:
        assert t.getnames() == ["a.txt"]
    (base / "o.pkl").write_bytes(pickle.dumps({"k": [1, 2, 3]}))
    assert pickle.loads((base / "o.pkl").read_bytes())["k"] == [1, 2, 3]
    db = sqlite3.connect(base / "t.db")
    db.execute("create table t (a integer, b text)")
    db.executemany("insert into t values (?, ?)", [(i, str(i)) for i in range(100)])
    db.commit()
    assert db.execute("select count(*) from t").fetchone()[0] == 100
    db.close()
    shutil.rmtree(base / "sub")
    for f in base.glob("*"):
        os.stat(f)
print("OK stdlib_files")
