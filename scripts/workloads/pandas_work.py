"""Workload: a pandas DataFrame: build, group, join, CSV round trip in /tmp."""
import io

import pandas as pd

df = pd.DataFrame({"k": ["a", "b", "a", "c"], "v": [1, 2, 3, 4]})
g = df.groupby("k")["v"].sum()
assert g["a"] == 4
m = df.merge(pd.DataFrame({"k": ["a", "b"], "w": [10, 20]}), on="k", how="left")
assert m["w"].isna().sum() == 1
buf = io.StringIO()
df.to_csv(buf, index=False)
assert pd.read_csv(io.StringIO(buf.getvalue())).shape == (4, 2)
df.to_csv("/tmp/df.csv", index=False)
assert pd.read_csv("/tmp/df.csv")["v"].sum() == 10
print("OK pandas_work")
