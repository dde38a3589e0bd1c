# An LLM-style script: parse data, compute, write a temp file, use a thread. Prints its results.
import csv, io, json, statistics, tempfile, threading, hashlib

data = "name,score\nada,91\nlinus,78\ngrace,88\n"
rows = list(csv.DictReader(io.StringIO(data)))
scores = [int(r["score"]) for r in rows]
result = {"mean": statistics.mean(scores), "max": max(rows, key=lambda r: int(r["score"]))["name"]}
with tempfile.NamedTemporaryFile("w+", dir="/tmp", suffix=".json") as f:
    json.dump(result, f)
    f.flush()
    f.seek(0)
    again = json.load(f)
box = []
t = threading.Thread(target=lambda: box.append(hashlib.sha256(json.dumps(again).encode()).hexdigest()[:12]))
t.start(); t.join()
print(json.dumps(again, sort_keys=True), box[0])
