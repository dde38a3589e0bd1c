"""Workload: text and data handling with the standard library (what LLM-written scripts do most)."""
import collections
import csv
import dataclasses
import datetime
import decimal
import enum
import html
import io
import itertools
import json
import re
import statistics
import textwrap
import typing
import unicodedata
import xml.etree.ElementTree as ET


class Color(enum.Enum):
    RED = 1
    GREEN = 2


@dataclasses.dataclass
class Row:
    name: str
    qty: int
    price: decimal.Decimal


def main() -> None:
    rows: typing.List[Row] = [Row("apple", 3, decimal.Decimal("0.50")), Row("pear", 5, decimal.Decimal("0.75"))]
    buf = io.StringIO()
    w = csv.writer(buf)
    for r in rows:
        w.writerow([r.name, r.qty, r.price])
    back = list(csv.reader(io.StringIO(buf.getvalue())))
    assert back[1][0] == "pear"
    doc = json.loads(json.dumps({"rows": [dataclasses.asdict(r) for r in rows]}, default=str))
    assert len(doc["rows"]) == 2
    total = sum(r.price * r.qty for r in rows)
    assert total == decimal.Decimal("5.25")
    assert re.findall(r"\d+", "a1b22c333") == ["1", "22", "333"]
    d = datetime.datetime(2024, 2, 28) + datetime.timedelta(days=2)
    assert d.month == 3
    assert statistics.median([3, 1, 2]) == 2
    c = collections.Counter("mississippi")
    assert c.most_common(1)[0][0] in "is"
    assert list(itertools.islice(itertools.count(), 3)) == [0, 1, 2]
    assert Color(2) is Color.GREEN
    assert textwrap.wrap("a " * 50, 20)
    assert unicodedata.name("é") == "LATIN SMALL LETTER E WITH ACUTE"
    assert html.escape("<a>") == "&lt;a&gt;"
    root = ET.fromstring("<r><i v='1'/><i v='2'/></r>")
    assert [i.get("v") for i in root] == ["1", "2"]
    print("OK stdlib_data")


main()
