"""Workload: import requests and prepare (not send) a request; urllib parsing. No network."""
import urllib.parse

import requests

req = requests.Request("POST", "https://example.invalid/api", params={"q": "x y"},
                       json={"a": 1}, headers={"X-Test": "1"}).prepare()
assert req.url == "https://example.invalid/api?q=x+y"
assert b'"a": 1' in req.body
assert urllib.parse.urlparse(req.url).netloc == "example.invalid"
s = requests.Session()
s.headers.update({"User-Agent": "tightbox"})
s.close()
print("OK requests_prepare")
