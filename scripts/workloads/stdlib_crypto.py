"""Workload: hashing, encoding and compression."""
import base64
import bz2
import gzip
import hashlib
import hmac
import lzma
import random
import secrets
import struct
import uuid
import zlib

data = b"tightbox " * 1000
for name in ("md5", "sha1", "sha256", "sha512", "blake2b"):
    hashlib.new(name, data).hexdigest()
assert hmac.compare_digest(hmac.new(b"k", data, "sha256").digest(), hmac.new(b"k", data, "sha256").digest())
assert len(secrets.token_hex(16)) == 32
assert uuid.uuid4().version == 4
assert base64.b64decode(base64.b64encode(data)) == data
assert struct.unpack("<IQ", struct.pack("<IQ", 7, 9)) == (7, 9)
for mod in (zlib, gzip, bz2, lzma):
    assert mod.decompress(mod.compress(data)) == data
random.seed(1)
random.shuffle(list(range(100)))
print("OK stdlib_crypto")
