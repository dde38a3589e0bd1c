"""Workload: threads, locks, queues and a ThreadPoolExecutor."""
import concurrent.futures
import queue
import threading

q = queue.Queue()
lock = threading.Lock()
total = [0]


def work(n):
    with lock:
        total[0] += n
    q.put(n * n)
    return n * 2


threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
    assert sorted(ex.map(work, range(8))) == [i * 2 for i in range(8)]
ev = threading.Event()
threading.Timer(0.01, ev.set).start()
assert ev.wait(5)
assert q.qsize() == 12
print("OK threads")
